"""``vldesk serve``: the loaded model as a local OpenAI- and Ollama-compatible HTTP server."""
