"""Operator commands on an existing local deployment (mock tokens and feeds only)."""
