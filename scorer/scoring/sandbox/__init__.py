"""Running an untrusted notebook in bubblewrap, watched from outside."""
