"""The application: small services over one store and one unit of work, each for one kind of
case or fact. The composition root (aftersales/bootstrap.py) builds them; entry points reach
commands through dispatch/ and reads through ``reads``."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_core.application.access import Access
from aftersales_core.application.complaints import ComplaintService
from aftersales_core.application.deadlines import DeadlineService
from aftersales_core.application.policy_book_service import PolicyBookService
from aftersales_core.application.principals import PrincipalService
from aftersales_core.application.privacy import PrivacyService
from aftersales_core.application.reads import ReadService
from aftersales_core.application.refunds import RefundService
from aftersales_core.application.resolutions import ResolutionService
from aftersales_core.application.returns import ReturnService
from aftersales_core.application.store import Store
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.application.upstream import UpstreamService


@dataclass(frozen=True)
class Services:
    store: Store
    work: UnitOfWork
    access: Access
    returns: ReturnService
    resolutions: ResolutionService
    refunds: RefundService
    complaints: ComplaintService
    upstream: UpstreamService
    deadlines: DeadlineService
    principals: PrincipalService
    reads: ReadService
    books: PolicyBookService
    privacy: PrivacyService

    def close(self) -> None:
        self.store.close()
