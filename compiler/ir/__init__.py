"""The matching IR: typed egglog terms for tensor programs, import from Relax, emission back to Relax."""
