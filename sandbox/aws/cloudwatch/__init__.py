"""CloudWatch: metric alarms, and the percentile statistics of GetMetricData."""
