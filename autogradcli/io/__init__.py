"""Reading points files and writing outputs safely."""
