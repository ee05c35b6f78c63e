"""顧客: parties, identifiers, group tree, bank accounts and 名寄せ."""
