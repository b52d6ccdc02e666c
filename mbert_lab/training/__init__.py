"""Fine-tuning loops and losses (torch is imported inside the functions that need it)."""
