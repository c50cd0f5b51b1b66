"""The application around the hub: the `stemlab up` supervisor and what it needs."""
