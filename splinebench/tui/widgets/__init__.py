"""Widgets of the dashboard, grouped by what they show."""
