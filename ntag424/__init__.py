"""NTAG 424 DNA secure messages, as a small pure library (no Django, nothing of Sésame).

The server (card) and the reader agent that runs on terminals (kiosk.agent) both verify SUN
messages; this package is the one implementation they share. It imports only the standard
library and `cryptography` (an import-linter contract in pyproject.toml keeps it so), and the
agent's installer ships it beside the agent."""
