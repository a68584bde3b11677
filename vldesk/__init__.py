"""vldesk: understand images offline with local Qwen vision-language models."""

__version__ = "0.1.0"
