"""What the loan book appends to the public journal (journal/): disbursements and repayments.
Pledges are journaled by the registry (resources.services.add_pledge / release_restriction)."""

from journal.models import EntryKind
from journal.publish import party_label
from journal.services import record


def loan_disbursed(actor, loan):
    record(
        kind=EntryKind.LOAN_DISBURSED,
        references=[loan.number, loan.application.number],
        public={
            "loan": loan.number,
            "product": loan.product.name,
            "bank": loan.bank.name,
            "borrower": party_label(loan.borrower),
            "principal": loan.principal,
            "disbursed_on": loan.disbursed_on,
            "maturity_date": loan.maturity_date,
        },
        detail={"loan": loan.pk, "borrower": loan.borrower_id},
        actor=actor,
    )


def loan_repaid(actor, repayment):
    loan = repayment.loan
    record(
        kind=EntryKind.LOAN_REPAID,
        references=[loan.number],
        public={
            "loan": loan.number,
            "repayment": repayment.get_kind_display(),
            "paid_on": repayment.paid_on,
            "amount": repayment.amount,
            "principal": repayment.principal_part,
            "interest": repayment.interest_part,
            "penalty": repayment.penalty_part,
        },
        detail={"repayment": repayment.pk},
        actor=actor,
    )
