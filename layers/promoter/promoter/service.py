"""Kept for callers of the old module: the service now lives in ``promoter.promotions``."""

from .promotions import PromoterService, describe_origin, execution_arn_for

__all__ = ["PromoterService", "describe_origin", "execution_arn_for"]
