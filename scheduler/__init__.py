"""The scheduler: what is due when. The database says what is due; a timer wakes the core."""
