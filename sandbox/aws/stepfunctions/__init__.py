"""Step Functions: executions (error names, time) and their limits."""
