"""Mass-outage monitor and customer-notice console for ISPs (application package)."""
