"""What the RA reads when a value breaks a rule: one wording for server and browser.

validation.py raises these messages; widgets.py puts the same ones on the
inputs as data-msg-* attributes, which static/inline_errors.js shows next to
the field before anything is sent.
"""

from decimal import Decimal

WHOLE_NUMBER = "Enter a whole number, like 42."
NUMBER = "Enter a number, like 12.5."
DATE = "Enter a date as YYYY-MM-DD, like 2026-03-31."
DATETIME = "Enter a date and time, like 2026-03-31 14:30."
DATETIME_RANGE = "Enter a date and time from 0001-01-02 to 9999-12-30 (UTC)."
EMAIL = "Enter an email address, like name@example.org."
NUL = "Remove the invisible NUL character; it cannot be stored."
UNLISTED_CHOICE = "Choose one of the listed options."
UNLISTED_CHOICES = "Choose only from the listed options."
BAD_INPUT = {"integer": WHOLE_NUMBER, "decimal": NUMBER, "date": DATE, "datetime": DATETIME}


def required(field):
    return {"choice": "Choose an option.", "boolean": "Choose yes or no.",
            "multi_choice": "Tick at least one option."}.get(field.type, "Enter a value.")


def too_long(limit, used=None):
    return f"Use at most {limit} characters" + (f" (you used {used})." if used else ".")


def too_short(limit, used=None):
    return f"Use at least {limit} characters" + (f" (you used {used})." if used else ".")


def pattern(field):
    return f"Use the expected format: {field.hint or field.pattern}."


def places(count):
    return f"Use at most {count} decimal place{'s' * (count != 1)}."


def below(field, shown):
    return f"Enter {shown} or later." if field.type in ("date", "datetime") else f"Enter at least {shown}."


def above(field, shown):
    return f"Enter {shown} or earlier." if field.type in ("date", "datetime") else f"Enter at most {shown}."


def calculated(value, problem):
    shown = format(value, "f") if isinstance(value, Decimal) else value
    return f"Calculated as {shown}: {problem} Check the answers it is calculated from."


def out_of_int_range(low, high):
    return f"Enter a number between {low} and {high}."


# Why a post was not accepted, by Flask-WTF's CSRFError reason (views.csrf_failed).
CROSS_ORIGIN = "The request came from another site."
CSRF_REASONS = {
    "The CSRF token is missing.": "The page was sent without its security token",
    "The CSRF session token is missing.": "Your browser did not send this site's cookie (cookies "
                                          "may be blocked, or were cleared)",
    "The CSRF token has expired.": "The page was open for more than {hours} hours",
    "The CSRF token is invalid.": "The page's security token could not be checked (the page may "
                                  "be from before the site was updated)",
    "The CSRF tokens do not match.": "Your session changed after the page was opened (for "
                                     "example, an invite link was opened in another tab)",
    CROSS_ORIGIN: "This was sent from a page on another site, not from this form",
}
CSRF_UNKNOWN = "This request could not be verified"


def csrf_reason(reason, hours):
    """Return what really happened, in the RA's words, for a Flask-WTF CSRFError reason."""
    return CSRF_REASONS.get(reason, CSRF_UNKNOWN).format(hours=hours)
