"""The optional, self-hostable cloud service for team sync."""
