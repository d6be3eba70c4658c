"""The edge: an offline-first Flask app that signs, keeps and syncs a device's records."""
