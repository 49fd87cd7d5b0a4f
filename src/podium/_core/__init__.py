"""The core types: Step, Flow, records and errors (re-exported from `podium`)."""
