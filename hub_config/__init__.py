"""What the hub is: site settings, accounts and roles, and the JupyterHub configuration."""
