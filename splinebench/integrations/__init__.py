"""Adapters for other people's training loops (optional extras): Lightning's ``Callback``."""
