"""Shop orders after placement: paid, shipped, delivered, completed, cancelled."""
