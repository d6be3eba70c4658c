"""Helpers that start real servers for the test suite."""
