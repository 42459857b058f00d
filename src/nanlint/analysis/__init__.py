"""The data-flow core shared by every rule: value kinds through expressions, variables, attributes and functions."""
