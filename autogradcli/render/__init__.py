"""What a user sees: drawings (the view, DOT, Mermaid), tables, JSON and CI formats."""
