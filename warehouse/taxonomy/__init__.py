"""The openness taxonomy: its rules (data, rules.yml) and the pure engine that applies them."""
