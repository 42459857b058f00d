"""Runtime reproductions of each rule's instability (torch is imported only when one runs)."""
