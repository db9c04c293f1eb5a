"""n8n beside NodeFlow: install.sh installs it into a directory, peer.py measures both in one run."""
