"""KYC, watchlist screening (反社・制裁) and connection approvals (接続許可)."""
