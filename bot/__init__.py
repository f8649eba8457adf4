"""Buurtbot core: platform-independent handling of neighbourhood help."""
