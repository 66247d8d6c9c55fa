"""`junkan demo`: a realistic Japanese sample company, ingested and processed end to end."""
