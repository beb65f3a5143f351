"""Reading Lambda's own log records: REPORT parsing, Logs Insights statistics, sampling."""
