"""Every write of the trading desk, one module per area; each public function is one
transaction, checks the actor's capability and locks the rows it changes in the fixed order
asset → right → contract/listing → application → installment/schedule line → ledger account."""
