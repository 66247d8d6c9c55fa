"""KPI and ROI reports: SQL definitions in sql/reports, computed per period, stored as snapshots."""
