"""Reusable widgets and helpers for the app's screens."""
