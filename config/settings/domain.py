"""Huying's domain settings: deadlines and ratings, rate limits, routing, knowledge base, early warning.

Imported by ``config.settings`` (the package), like every other setting each is read from an
environment variable with a documented default.
"""

from __future__ import annotations

import os
from typing import TypedDict

from config.settings.env import env_bool, env_int

# --- Huying domain settings (defaults from docs; each is configurable) -------------------------


class HuyingSettings(TypedDict):
    DEFAULT_RATING_DAYS: int
    BASIC_SATISFIED_WEIGHT: float
    SCORE_WEIGHTS: tuple[float, float, float]
    COUNT_DEFAULT_RATINGS: bool


HUYING: HuyingSettings = {
    # Natural days after a reply before an unrated appeal is closed as 基本满意 (Guangdong: 7).
    "DEFAULT_RATING_DAYS": env_int("HUYING_DEFAULT_RATING_DAYS", 7),
    # Weight given to 基本满意 in the satisfaction rate (0 = not satisfied, 1 = fully satisfied).
    "BASIC_SATISFIED_WEIGHT": float(os.environ.get("HUYING_BASIC_SATISFIED_WEIGHT", "0.5")),
    # Composite score weights: response, resolution, satisfaction.
    "SCORE_WEIGHTS": (0.30, 0.35, 0.35),
    # Whether default ratings count in satisfaction/resolution metrics.
    "COUNT_DEFAULT_RATINGS": env_bool("HUYING_COUNT_DEFAULT_RATINGS", True),
}

# --- Public portal and API (rate limits) -------------------------------------------------------

# The "ip" key is the real client resolved from trusted proxies (config/proxies.py).
RATELIMIT_IP_META_KEY = "config.proxies.client_ip"
# django-ratelimit counts in the default cache (Redis when REDIS_URL is set). Rates are
# "count/period" with period s, m, h or d (e.g. "30/h"). RATELIMIT_ENABLE=false switches every
# limit off, for the submission benchmark only.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
PORTAL_RATE_LIMITS = {
    # Appeals filed from one client address (offices behind one NAT address file several a day).
    "submit_ip": os.environ.get("PORTAL_RATE_SUBMIT_IP", "30/h"),
    # Appeals filed for one enterprise (unified social credit code) with one contact phone: a credit
    # code is public, so strangers filing with it (and their own phones) cannot use up the company's quota.
    "submit_credit_code": os.environ.get("PORTAL_RATE_SUBMIT_CODE", "10/d"),
    # Tracking-number + access-code lookups from one client address (guessing defence).
    "lookup_ip": os.environ.get("PORTAL_RATE_LOOKUP_IP", "20/10m"),
    # Requests for a staff unlock e-mail from one client address.
    "unlock_ip": os.environ.get("STAFF_RATE_UNLOCK_IP", "5/h"),
    # Supplements, withdrawals and ratings from one client address.
    "action_ip": os.environ.get("PORTAL_RATE_ACTION_IP", "60/h"),
    # Requests per API client key (a partner's server submits for many users).
    "api_client": os.environ.get("API_RATE_CLIENT", "600/m"),
    # Lookups per API client key.
    "api_lookup": os.environ.get("API_RATE_LOOKUP", "300/m"),
    # Open311 public reads (services, requests, tokens) from one client address.
    "open311_read_ip": os.environ.get("OPEN311_RATE_READ_IP", "120/m"),
}
# Enterprise self-service (我的企业诉求, appeals/portal/selfservice.py; docs/portal.md). Every key below
# is counted whether or not the phone number belongs to an appeal, so the answers never differ.
PORTAL_RATE_LIMITS.update(
    {
        # One-time codes sent to one phone number (keyed hash of the number): per hour and per day.
        "otp_send_phone": os.environ.get("PORTAL_RATE_OTP_SEND_PHONE", "3/h"),
        "otp_send_phone_day": os.environ.get("PORTAL_RATE_OTP_SEND_PHONE_DAY", "10/d"),
        # One-time codes requested from one client address (any numbers), per hour and per day.
        "otp_send_ip": os.environ.get("PORTAL_RATE_OTP_SEND_IP", "10/h"),
        "otp_send_ip_day": os.environ.get("PORTAL_RATE_OTP_SEND_IP_DAY", "30/d"),
        # Lockout: this many wrong codes for one phone number, or from one client address, locks
        # verification for that number / address until the window ends.
        "otp_fail_phone": os.environ.get("PORTAL_RATE_OTP_FAIL_PHONE", "10/h"),
        "otp_fail_ip": os.environ.get("PORTAL_RATE_OTP_FAIL_IP", "20/h"),
        # Access-code recoveries (a new code by SMS) from one client address.
        "recover_ip": os.environ.get("PORTAL_RATE_RECOVER_IP", "10/h"),
    }
)


class SelfServiceSettings(TypedDict):
    CODE_TTL_SECONDS: int
    CODE_MAX_ATTEMPTS: int
    GRANT_SECONDS: int
    LINK_MAX_AGE_DAYS: int


SELF_SERVICE: SelfServiceSettings = {
    # A one-time code works for this long after it is sent, once, and for this many tries.
    "CODE_TTL_SECONDS": env_int("SELF_SERVICE_CODE_TTL_SECONDS", 600),
    "CODE_MAX_ATTEMPTS": env_int("SELF_SERVICE_CODE_MAX_ATTEMPTS", 5),
    # A verified phone opens its list of appeals in this browser session for this long.
    "GRANT_SECONDS": env_int("SELF_SERVICE_GRANT_SECONDS", 1800),
    # Links in SMS and e-mail open the appeal directly for this many days (until the code changes).
    "LINK_MAX_AGE_DAYS": env_int("SELF_SERVICE_LINK_MAX_AGE_DAYS", 14),
}

# Seconds a process keeps a partner's API client row (appeals.api.authentication.active_client).
API_CLIENT_CACHE_SECONDS = env_int("API_CLIENT_CACHE_SECONDS", 10)

# --- Routing, classifier, assignment and deadlines (routing app; docs/routing.md) ---------------

ROUTING = {
    # Category "other": the classifier's suggestion routes automatically at or above this confidence
    # (that its bureau is right); below it the appeal goes to triage with the suggestion shown. Unset:
    # the threshold calibrated with the active model version on held-out examples (docs/routing.md).
    "AUTO_ROUTE_CONFIDENCE": (
        float(os.environ["ROUTING_AUTO_ROUTE_CONFIDENCE"]) if os.environ.get("ROUTING_AUTO_ROUTE_CONFIDENCE") else None
    ),
    # A chosen category "clearly contradicts" the text when the classifier gives it at most this
    # probability and prefers another category; the disagreement is then flagged (disputed).
    "CONTRADICTION_MAX_PROBABILITY": float(os.environ.get("ROUTING_CONTRADICTION_MAX_PROBABILITY", "0.02")),
    # ... but only when the text carries at least this many known character n-grams (a title and one
    # short sentence is too little evidence to overrule what the appellant chose).
    "CONTRADICTION_MIN_FEATURES": env_int("ROUTING_CONTRADICTION_MIN_FEATURES", 60),
    # A contradicted choice is re-routed automatically only at or above this confidence (else triage).
    "CONTRADICTION_AUTO_ROUTE_CONFIDENCE": float(os.environ.get("ROUTING_CONTRADICTION_CONFIDENCE", "0.8")),
    # Classifier: "logistic-regression" over "robust" features (normalised char 1-3-grams, pinyin
    # bigrams, English words), or "multinomial-naive-bayes" over "char"/"jieba"/"robust" features;
    # measured side by side in bench/routing_accuracy.py.
    "CLASSIFIER_ALGORITHM": os.environ.get("ROUTING_CLASSIFIER_ALGORITHM", "logistic-regression"),
    "CLASSIFIER_FEATURES": os.environ.get("ROUTING_CLASSIFIER_FEATURES", "robust"),
    "CLASSIFIER_RELOAD_SECONDS": env_int("ROUTING_CLASSIFIER_RELOAD_SECONDS", 60),
    # Duplicate suggestions (并单): same enterprise, similar text, filed within this many days.
    "DUPLICATE_WINDOW_DAYS": env_int("ROUTING_DUPLICATE_WINDOW_DAYS", 14),
    "DUPLICATE_MIN_SIMILARITY": float(os.environ.get("ROUTING_DUPLICATE_MIN_SIMILARITY", "0.35")),
    # On the dispatcher's board, other enterprises' appeals with titles at least this similar (one problem
    # reported by many businesses).
    "DUPLICATE_TITLE_SIMILARITY": float(os.environ.get("ROUTING_DUPLICATE_TITLE_SIMILARITY", "0.6")),
    # Working-hour limits count inside these hours of working days, in this time zone.
    "CALENDAR_TIME_ZONE": "Asia/Shanghai",
    "WORKING_HOURS": (os.environ.get("ROUTING_WORKDAY_START", "09:00"), os.environ.get("ROUTING_WORKDAY_END", "18:00")),
    # Deadline sweep: warn this fraction of the window before a deadline (at most WARNING_HOURS before),
    # urge (催办) at the deadline, supervise (督办) this many working days after it.
    "WARNING_FRACTION": float(os.environ.get("ROUTING_WARNING_FRACTION", "0.2")),
    "WARNING_HOURS": env_int("ROUTING_WARNING_HOURS", 24),
    "SUPERVISE_AFTER_WORKING_DAYS": env_int("ROUTING_SUPERVISE_AFTER_WORKING_DAYS", 2),
    # Co-handling: working days a co-handler has for its part unless the inviter says otherwise.
    "COHANDLING_WORKING_DAYS": env_int("ROUTING_COHANDLING_WORKING_DAYS", 3),
}

# --- Knowledge base (政策问答; knowledge app; docs/knowledge.md) ----------------------------------

KNOWLEDGE = {
    # Owners (author and bureau leads) are told this many days before an article's end date.
    "EXPIRY_WARNING_DAYS": env_int("KNOWLEDGE_EXPIRY_WARNING_DAYS", 14),
    # A suggestion needs at least this cosine similarity to be shown (bench/knowledge_suggest.py).
    "MIN_SCORE": float(os.environ.get("KNOWLEDGE_MIN_SCORE", "0.18")),
    # Articles of another category than the one chosen on the form are discounted by this factor.
    "OTHER_CATEGORY_FACTOR": float(os.environ.get("KNOWLEDGE_OTHER_CATEGORY_FACTOR", "0.7")),
    # n-grams found in more than this share of articles are ignored (they match everything).
    "MAX_DOCUMENT_FREQUENCY": float(os.environ.get("KNOWLEDGE_MAX_DOCUMENT_FREQUENCY", "0.2")),
    # Each process checks this often whether articles were published, edited or retired.
    "INDEX_CHECK_SECONDS": env_int("KNOWLEDGE_INDEX_CHECK_SECONDS", 5),
    # Rebuild a changed index in a background thread while the old one keeps answering.
    "BACKGROUND_REBUILD": env_bool("KNOWLEDGE_BACKGROUND_REBUILD", True),
}
# Suggestion requests from one client address while typing (the form asks at most every ~0.6 s).
PORTAL_RATE_LIMITS["knowledge_suggest"] = os.environ.get("PORTAL_RATE_KNOWLEDGE_SUGGEST", "120/m")

# --- Early warning (未诉先办; alerts app; docs/alerts.md) ------------------------------------------

ALERTS = {
    # Clusters: this many different businesses in one city and category, within this many days,
    # whose texts are at least this similar (TF-IDF cosine of character n-grams).
    "CLUSTER_DAYS": env_int("ALERTS_CLUSTER_DAYS", 7),
    "CLUSTER_MIN_ENTERPRISES": env_int("ALERTS_CLUSTER_MIN_ENTERPRISES", 3),
    "CLUSTER_SIMILARITY": float(os.environ.get("ALERTS_CLUSTER_SIMILARITY", "0.15")),
    # Repeat filers: one business filing this many similar appeals within this many days.
    "REPEAT_DAYS": env_int("ALERTS_REPEAT_DAYS", 30),
    "REPEAT_MIN_APPEALS": env_int("ALERTS_REPEAT_MIN_APPEALS", 2),
    "REPEAT_SIMILARITY": float(os.environ.get("ALERTS_REPEAT_SIMILARITY", "0.2")),
    # Surges: the last 7 days of a city × category against this many previous weeks.
    "SURGE_BASELINE_WEEKS": env_int("ALERTS_SURGE_BASELINE_WEEKS", 8),
    # Sensitive words are looked for in appeals filed within this many hours (the job runs every 15 min).
    "SENSITIVE_LOOKBACK_HOURS": env_int("ALERTS_SENSITIVE_LOOKBACK_HOURS", 48),
}

# --- Follow-up calls (回访; followup app; docs/followup.md) -------------------------------------

FOLLOW_UP = {
    # Every closed appeal with a rating at or below this level gets a call (2 = 不满意: every bad review).
    "BAD_RATING_MAX": env_int("FOLLOW_UP_BAD_RATING_MAX", 2),
    # Percentage of the other closed appeals called as a sample, chosen by a hash of the appeal id (stable
    # across reruns). Appeals closed by the default rating are always called.
    "SAMPLE_PERCENT": env_int("FOLLOW_UP_SAMPLE_PERCENT", 10),
    # Natural days after closing by which the call should be made (the worklist is sorted by this).
    "DUE_DAYS": env_int("FOLLOW_UP_DUE_DAYS", 3),
    # Calls without reaching the appellant before the follow-up closes as unreachable.
    "MAX_ATTEMPTS": env_int("FOLLOW_UP_MAX_ATTEMPTS", 3),
    # The periodic selection looks at appeals closed within this many days (catches any close it missed).
    "LOOKBACK_DAYS": env_int("FOLLOW_UP_LOOKBACK_DAYS", 30),
}

# --- Problem tickets (问题工单; problems app; docs/followup.md) ----------------------------------

PROBLEM_TICKETS = {
    # Re-opened (重办) at least this many times.
    "REOPEN_THRESHOLD": env_int("PROBLEM_REOPEN_THRESHOLD", 3),
    # Dispatched to at least this many different bureaus (returns and re-routes).
    "BUREAU_THRESHOLD": env_int("PROBLEM_BUREAU_THRESHOLD", 3),
    # Still open after formal supervision (督办).
    "FLAG_SUPERVISED": env_bool("PROBLEM_FLAG_SUPERVISED", True),
}
