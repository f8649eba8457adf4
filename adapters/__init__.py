"""Adapters: the platforms (Telegram, Matrix, console) and the command line."""
