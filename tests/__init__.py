"""vldesk's test suite."""
