"""Widgets shared by the places' screens."""
