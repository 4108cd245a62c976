"""Error codes of the shop (in the manner of Saleor's `error_codes.py`) and the one table of their messages.

Services and states raise or return codes; only the page shows the sentence. Tests compare codes,
so a reworded message never breaks a test and an English sentence is never the contract.
Messages may carry named fields (`{name}`), filled from the parameters given with the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    # cart and catalogue
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_REQUEST = "invalid_request"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    PRODUCT_NOT_OFFERED = "product_not_offered"
    QUANTITY_BELOW_ONE = "quantity_below_one"
    OVER_ORDER_LIMIT = "over_order_limit"
    OUT_OF_STOCK = "out_of_stock"
    OVER_STOCK = "over_stock"
    CART_TOO_MANY_LINES = "cart_too_many_lines"
    CART_EMPTY = "cart_empty"
    CART_CHANGED = "cart_changed"
    SOLD_OUT_NOW = "sold_out_now"
    COUNTRY_NOT_OFFERED = "country_not_offered"
    # checkout steps
    FIELDS_INVALID = "fields_invalid"
    STEP_NOT_READY = "step_not_ready"
    DETAILS_NOT_CONFIRMED = "details_not_confirmed"
    TERMS_NOT_ACCEPTED = "terms_not_accepted"
    PERSONAL_USE_NOT_DECLARED = "personal_use_not_declared"
    TERMS_CHANGED = "terms_changed"
    TERMS_UNAVAILABLE = "terms_unavailable"
    CHECKOUT_EXPIRED = "checkout_expired"
    COOKIES_REQUIRED = "cookies_required"
    # compliance
    DESTINATION_NOT_DELIVERABLE = "destination_not_deliverable"
    DESTINATION_SANCTIONED = "destination_sanctioned"
    REGION_NOT_LISTED = "region_not_listed"
    BILLING_SANCTIONED = "billing_sanctioned"
    UNDER_AGE = "under_age"
    ORDER_DECLINED = "order_declined"
    # abuse limits
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
    TOO_MANY_CONFIRMATIONS = "too_many_confirmations"
    TOO_MANY_PAYMENT_ATTEMPTS = "too_many_payment_attempts"
    PAYMENT_ATTEMPTS_EXHAUSTED = "payment_attempts_exhausted"
    # payment
    CARD_INCOMPLETE = "card_incomplete"
    CARD_UNREADABLE = "card_unreadable"
    CARD_BRAND_REFUSED = "card_brand_refused"
    ISSUER_DECLINED = "issuer_declined"
    PAYMENT_SERVICE_DOWN = "payment_service_down"
    PAYMENT_NO_ANSWER = "payment_no_answer"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    PAYMENT_WINDOW_CLOSED = "payment_window_closed"
    ORDER_NOT_PAYABLE = "order_not_payable"
    ORDER_NOT_FOUND = "order_not_found"
    # back office: order lifecycle
    ORDER_CHANGED = "order_changed"
    NOT_AWAITING_APPROVAL = "not_awaiting_approval"
    HOLD_DOES_NOT_COVER = "hold_does_not_cover"
    NOT_CANCELLABLE = "not_cancellable"
    CANCEL_REASON_UNKNOWN = "cancel_reason_unknown"
    NOT_IN_COMPLIANCE_REVIEW = "not_in_compliance_review"
    CLEAR_REASON_UNKNOWN = "clear_reason_unknown"
    DECLINE_REASON_UNKNOWN = "decline_reason_unknown"
    STAFF_SIGNED_OUT = "staff_signed_out"
    STAFF_FORBIDDEN = "staff_forbidden"
    # back office: shipping
    NOT_SHIPPABLE = "not_shippable"
    SHIP_NOTHING = "ship_nothing"
    SHIP_LINE_UNKNOWN = "ship_line_unknown"
    SHIP_QUANTITY_INVALID = "ship_quantity_invalid"
    CARRIER_UNKNOWN = "carrier_unknown"
    TRACKING_INVALID = "tracking_invalid"
    HANDOVER_TIME_INVALID = "handover_time_invalid"
    HANDOVER_OUTSIDE_HOURS = "handover_outside_hours"
    HANDOVER_IN_FUTURE = "handover_in_future"
    NO_HOLD_FOR_SHIPMENT = "no_hold_for_shipment"
    CAPTURE_FAILED = "capture_failed"
    SHIPMENT_ALREADY_RECORDED = "shipment_already_recorded"
    # staff accounts: sign-in, second factor, account management
    STAFF_BAD_CREDENTIALS = "staff_bad_credentials"
    STAFF_OTP_REQUIRED = "staff_otp_required"
    STAFF_OTP_INVALID = "staff_otp_invalid"
    STAFF_ENROLMENT_REQUIRED = "staff_enrolment_required"
    STAFF_ENROLMENT_INVALID = "staff_enrolment_invalid"
    STAFF_THROTTLED = "staff_throttled"
    STAFF_LOCKED = "staff_locked"
    STAFF_EMAIL_INVALID = "staff_email_invalid"
    STAFF_EMAIL_TAKEN = "staff_email_taken"
    STAFF_ROLE_UNKNOWN = "staff_role_unknown"
    STAFF_PASSWORD_TOO_SHORT = "staff_password_too_short"
    STAFF_PASSWORD_TOO_LONG = "staff_password_too_long"
    STAFF_NOT_FOUND = "staff_not_found"
    STAFF_SELF_DISABLE = "staff_self_disable"
    STAFF_LAST_ADMIN = "staff_last_admin"
    STAFF_ALREADY_DISABLED = "staff_already_disabled"
    STAFF_ROLE_UNCHANGED = "staff_role_unchanged"
    STAFF_NO_SECOND_FACTOR = "staff_no_second_factor"
    # staff free text (PAY-2): card numbers are typed only into the payment provider's form
    CARD_NUMBER_IN_TEXT = "card_number_in_text"
    # back office: telephone orders (PAY-2)
    PHONE_ORDER_LINK_INVALID = "phone_order_link_invalid"
    PHONE_ORDER_LINK_EXPIRED = "phone_order_link_expired"
    PHONE_ORDER_NOT_AWAITING_CLIENT = "phone_order_not_awaiting_client"
    PHONE_ORDER_PERSONAL_USE = "phone_order_personal_use"
    PHONE_ORDER_NO_LINES = "phone_order_no_lines"
    PHONE_ORDER_MOTO_OFF = "phone_order_moto_off"
    PHONE_ORDER_TERMS_NOT_READ = "phone_order_terms_not_read"
    # back office: order exports
    EXPORT_LINK_INVALID = "export_link_invalid"
    EXPORT_LINK_EXPIRED = "export_link_expired"
    # back office: refunds
    REFUND_NOTHING_CAPTURED = "refund_nothing_captured"
    REFUND_OVER_REFUNDABLE = "refund_over_refundable"
    REFUND_LINE_UNKNOWN = "refund_line_unknown"
    REFUND_QUANTITY_INVALID = "refund_quantity_invalid"
    REFUND_REASON_UNKNOWN = "refund_reason_unknown"
    REFUND_AMOUNT_INVALID = "refund_amount_invalid"
    REFUND_NOT_FOUND = "refund_not_found"
    REFUND_NOT_AWAITING_APPROVAL = "refund_not_awaiting_approval"
    REFUND_SAME_APPROVER = "refund_same_approver"
    REFUND_FAILED = "refund_failed"
    # back office: unavailable items (GTC-3.2)
    UNAVAILABLE_NOT_ALLOWED = "unavailable_not_allowed"
    UNAVAILABLE_LINE_UNKNOWN = "unavailable_line_unknown"
    UNAVAILABLE_QUANTITY_INVALID = "unavailable_quantity_invalid"
    UNAVAILABLE_DATE_INVALID = "unavailable_date_invalid"
    UNAVAILABLE_CHOICE_UNKNOWN = "unavailable_choice_unknown"
    UNAVAILABLE_LINK_INVALID = "unavailable_link_invalid"
    # delivery delays (GTC-5.4)
    DELAY_NOT_FOUND = "delay_not_found"
    DELAY_DATE_INVALID = "delay_date_invalid"
    DELAY_CHOICE_UNKNOWN = "delay_choice_unknown"
    DELAY_LINK_INVALID = "delay_link_invalid"
    # the client authorising the card again (PAY-5)
    REAUTHORIZE_LINK_INVALID = "reauthorize_link_invalid"
    REAUTHORIZE_NOT_NEEDED = "reauthorize_not_needed"
    REAUTHORIZE_ATTEMPTS_EXHAUSTED = "reauthorize_attempts_exhausted"
    # the client finding an order by reference and email (CARD-3): one answer for every mismatch
    FIND_ORDER_NO_MATCH = "find_order_no_match"
    FIND_ORDER_TOO_MANY = "find_order_too_many"
    # back office: the email outbox
    EMAIL_NOT_FOUND = "email_not_found"
    EMAIL_NOT_FAILED = "email_not_failed"
    CONFIRMATION_NOT_SENT = "confirmation_not_sent"
    # back office: the sanctions list (PAY-7)
    ERASURE_EMAIL_INVALID = "erasure_email_invalid"
    ERASURE_REASON_REQUIRED = "erasure_reason_required"
    SANCTIONS_FILE_MISSING = "sanctions_file_missing"
    SANCTIONS_FILE_UNKNOWN = "sanctions_file_unknown"
    SANCTIONS_FILE_TOO_LARGE = "sanctions_file_too_large"
    SANCTIONS_FILE_EMPTY = "sanctions_file_empty"
    SANCTIONS_FILE_TRUNCATED = "sanctions_file_truncated"
    SANCTIONS_FILE_MALFORMED = "sanctions_file_malformed"
    SANCTIONS_PUBLISHED_INVALID = "sanctions_published_invalid"
    DESTINATION_COUNTRY_UNKNOWN = "destination_country_unknown"
    DESTINATION_REGION_INVALID = "destination_region_invalid"
    DESTINATION_REGION_UNMATCHABLE = "destination_region_unmatchable"
    DESTINATION_NAME_INVALID = "destination_name_invalid"
    DESTINATION_PROGRAMME_INVALID = "destination_programme_invalid"
    DESTINATION_PREFIX_INVALID = "destination_prefix_invalid"
    DESTINATION_PLACES_INVALID = "destination_places_invalid"
    DESTINATION_EXISTS = "destination_exists"
    DESTINATION_NOT_FOUND = "destination_not_found"
    # back office: terms versions (GTC-1.4)
    TERMS_LABEL_INVALID = "terms_label_invalid"
    TERMS_LABEL_TAKEN = "terms_label_taken"
    TERMS_TITLE_INVALID = "terms_title_invalid"
    TERMS_BODY_TOO_LONG = "terms_body_too_long"
    TERMS_BODY_UNSTRUCTURED = "terms_body_unstructured"
    TERMS_EFFECTIVE_INVALID = "terms_effective_invalid"
    TERMS_EFFECTIVE_PAST = "terms_effective_past"
    TERMS_EFFECTIVE_BEFORE_LATEST = "terms_effective_before_latest"
    TERMS_DRAFT_NOT_FOUND = "terms_draft_not_found"
    TERMS_DRAFT_CHANGED = "terms_draft_changed"
    TERMS_VERSION_NOT_FOUND = "terms_version_not_found"
    # catalogue management (issue 10 section 1)
    PRICE_CHANGED = "price_changed"
    CURRENCY_NOT_SOLD = "currency_not_sold"
    AMOUNT_INVALID = "amount_invalid"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    AMOUNT_TOO_PRECISE = "amount_too_precise"
    AMOUNT_TOO_LARGE = "amount_too_large"
    PRODUCT_NOT_FOUND = "product_not_found"
    PRODUCT_REFERENCE_INVALID = "product_reference_invalid"
    PRODUCT_REFERENCE_TAKEN = "product_reference_taken"
    PRODUCT_NAME_INVALID = "product_name_invalid"
    PRODUCT_FIELD_INVALID = "product_field_invalid"
    PRODUCT_NUMBER_INVALID = "product_number_invalid"
    PRODUCT_LIMIT_INVALID = "product_limit_invalid"
    PRODUCT_COLLECTION_UNKNOWN = "product_collection_unknown"
    PRODUCT_NOT_PRICED = "product_not_priced"
    STOCK_DELTA_INVALID = "stock_delta_invalid"
    STOCK_BELOW_ZERO = "stock_below_zero"
    STOCK_REASON_INVALID = "stock_reason_invalid"
    NOTE_TOO_LONG = "note_too_long"
    SHIPPING_ZONE_UNKNOWN = "shipping_zone_unknown"
    IMAGE_TYPE_INVALID = "image_type_invalid"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_TOO_SMALL = "image_too_small"
    IMAGE_LIMIT = "image_limit"
    IMAGE_NOT_FOUND = "image_not_found"
    # anything else: no detail reaches the client
    UNEXPECTED = "unexpected"


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.INVALID_QUANTITY: "Please enter a whole number.",
    ErrorCode.INVALID_REQUEST: "This request could not be understood. Please use the page's buttons and fields.",
    ErrorCode.PRODUCT_UNAVAILABLE: "This watch is not available.",
    ErrorCode.PRODUCT_NOT_OFFERED: "{name} is no longer offered.",
    ErrorCode.QUANTITY_BELOW_ONE: "Please choose a quantity of at least 1.",
    ErrorCode.OVER_ORDER_LIMIT: "{name} is limited to {limit} per order.",
    ErrorCode.OUT_OF_STOCK: "{name} is out of stock.",
    ErrorCode.OVER_STOCK: "Only {stock} of {name} left in stock.",
    ErrorCode.CART_TOO_MANY_LINES: "A cart holds at most {limit} different watches.",
    ErrorCode.CART_EMPTY: "Your cart is empty.",
    ErrorCode.CART_CHANGED: "A watch in your cart is no longer offered. Please review your cart.",
    ErrorCode.SOLD_OUT_NOW: "Sorry, {name} has just sold out. Please review your cart.",
    ErrorCode.COUNTRY_NOT_OFFERED: "Please choose a country from the list.",
    ErrorCode.FIELDS_INVALID: "Please correct the highlighted fields.",
    ErrorCode.STEP_NOT_READY: "Some details need attention before you can continue.",
    ErrorCode.DETAILS_NOT_CONFIRMED: "Please confirm that your details are accurate.",
    ErrorCode.TERMS_NOT_ACCEPTED: "Please tick the box to accept the terms and conditions of the site.",
    ErrorCode.PERSONAL_USE_NOT_DECLARED:
        "Please declare that the purchase is for your own or a relative's personal use.",
    ErrorCode.TERMS_CHANGED: "Our terms have been updated. Please read and accept the current version.",
    ErrorCode.TERMS_UNAVAILABLE:
        "Our terms of sale are being updated; ordering is paused. Please try again shortly.",
    ErrorCode.CHECKOUT_EXPIRED: "Your checkout session has expired. Please start again.",
    ErrorCode.COOKIES_REQUIRED: "Our checkout keeps your order safe to this browser with a cookie. Please allow "
                                "cookies for this site and reload the page.",
    ErrorCode.DESTINATION_NOT_DELIVERABLE: "We cannot deliver to this country.",
    ErrorCode.DESTINATION_SANCTIONED: "We cannot deliver to {place}.",
    ErrorCode.BILLING_SANCTIONED: "We cannot accept a billing address in {place}.",
    ErrorCode.REGION_NOT_LISTED: "Please choose your region from the list.",
    ErrorCode.UNDER_AGE: "{message}",
    ErrorCode.ORDER_DECLINED: "We are unable to accept this order. Please contact our client service for assistance.",
    ErrorCode.TOO_MANY_OPEN_ORDERS:
        "You already have orders waiting for payment. Please complete or let them lapse before placing another; "
        "our client service will gladly help.",
    ErrorCode.TOO_MANY_CONFIRMATIONS:
        "We have received many order confirmations from your connection in a short time. "
        "Please wait a minute and try again.",
    ErrorCode.TOO_MANY_PAYMENT_ATTEMPTS:
        "We have received many payment attempts from your connection. Please wait a little and try again, "
        "or contact our client service.",
    ErrorCode.PAYMENT_ATTEMPTS_EXHAUSTED:
        "No card could be authorised after several attempts, so this order has been cancelled and the watches "
        "released. Nothing has been charged. You are welcome to contact our client service.",
    ErrorCode.CARD_INCOMPLETE: "Your card details are incomplete.",
    ErrorCode.CARD_UNREADABLE: "Your card details could not be read. Please check them and try again.",
    ErrorCode.CARD_BRAND_REFUSED: "{message}",
    ErrorCode.ISSUER_DECLINED:
        "Your card issuer declined the payment. Please contact your card issuer, or try again with another card.",
    ErrorCode.PAYMENT_SERVICE_DOWN:
        "The payment service could not be reached. Nothing was charged; please try again in a moment.",
    ErrorCode.PAYMENT_NO_ANSWER:
        "The payment service did not answer in time. Please press the button again to retry: "
        "your card will not be held twice.",
    ErrorCode.PAYMENT_IN_PROGRESS: "Your payment is being processed. Please wait a moment.",
    ErrorCode.PAYMENT_WINDOW_CLOSED:
        "The time to pay for this order has run out, so it was cancelled and the watches released. "
        "Nothing has been charged. You are welcome to order again.",
    ErrorCode.ORDER_NOT_PAYABLE: "This order is not waiting for a payment.",
    ErrorCode.ORDER_NOT_FOUND: "Order not found.",
    ErrorCode.ORDER_CHANGED: "This order was changed by someone else meanwhile. It has been reloaded; please check it "
                             "and try again.",
    ErrorCode.NOT_AWAITING_APPROVAL: "Only an order awaiting approval can be approved (this one is {status}).",
    ErrorCode.HOLD_DOES_NOT_COVER: "The live card holds ({held}) do not cover the order total ({total}); the client "
                                   "must authorise the full amount before approval.",
    ErrorCode.NOT_CANCELLABLE: "An order that is {status} cannot be cancelled.",
    ErrorCode.CANCEL_REASON_UNKNOWN: "Please choose a cancellation reason from the list.",
    ErrorCode.NOT_IN_COMPLIANCE_REVIEW: "Only an order in compliance review can be cleared or declined (this one is "
                                        "{status}).",
    ErrorCode.CLEAR_REASON_UNKNOWN: "Please choose from the list why the possible match is not the client.",
    ErrorCode.DECLINE_REASON_UNKNOWN: "Please choose from the list why the order is declined.",
    # back office: shipping
    ErrorCode.NOT_SHIPPABLE: "Only an approved or partly shipped order can be shipped (this one is {status}).",
    ErrorCode.SHIP_NOTHING: "Please enter a quantity for at least one line to ship.",
    ErrorCode.SHIP_LINE_UNKNOWN: "{line} is not a line of this order.",
    ErrorCode.SHIP_QUANTITY_INVALID: "{line}: the quantity to ship must be between 1 and {remaining}, what remains "
                                     "to ship.",
    ErrorCode.CARRIER_UNKNOWN: "Please choose a carrier from the list.",
    ErrorCode.TRACKING_INVALID: "A tracking number is 1 to 40 capital letters, digits or hyphens.",
    ErrorCode.HANDOVER_TIME_INVALID: "Please enter the date and time the parcel was handed to the carrier.",
    ErrorCode.HANDOVER_OUTSIDE_HOURS: "Parcels are handed to the carrier Monday to Friday, {hours} ({zone} time), "
                                      "never on a public holiday. The next allowed slot is {next_slot}.",
    ErrorCode.HANDOVER_IN_FUTURE: "The handover time is in the future. Record a shipment once the parcel has been "
                                  "handed over.",
    ErrorCode.NO_HOLD_FOR_SHIPMENT: "No live card hold covers this shipment ({amount}); nothing was shipped or "
                                    "charged. The client must authorise the amount again first.",
    ErrorCode.CAPTURE_FAILED: "The payment provider did not charge the shipment ({detail}); nothing was recorded. "
                              "Please try again: the card will not be charged twice.",
    ErrorCode.SHIPMENT_ALREADY_RECORDED: "A shipment with tracking number {tracking} is already recorded for this "
                                         "order; nothing was shipped or charged again.",
    ErrorCode.STAFF_SIGNED_OUT: "Your session has ended. Please sign in again.",
    ErrorCode.STAFF_FORBIDDEN: "Your role does not allow this action.",
    ErrorCode.STAFF_BAD_CREDENTIALS: "The email address or password is not right.",
    ErrorCode.STAFF_OTP_REQUIRED: "Please enter the 6-digit code from your authenticator app, or a recovery code.",
    ErrorCode.STAFF_OTP_INVALID: "This code is not right. Please enter the code your authenticator app shows now.",
    ErrorCode.STAFF_ENROLMENT_REQUIRED:
        "Your role needs a second factor. Please set up an authenticator app to finish signing in.",
    ErrorCode.STAFF_ENROLMENT_INVALID: "This set-up link has expired. Please sign in again.",
    ErrorCode.STAFF_THROTTLED: "Too many attempts. Please wait {seconds} seconds and try again.",
    ErrorCode.STAFF_LOCKED:
        "Too many failed attempts: this account is locked for {minutes} minutes. An administrator has been told.",
    ErrorCode.STAFF_EMAIL_INVALID: "Please enter a valid email address.",
    ErrorCode.STAFF_EMAIL_TAKEN: "A staff account with this email address exists already.",
    ErrorCode.STAFF_ROLE_UNKNOWN: "Please choose a role from the list.",
    ErrorCode.STAFF_PASSWORD_TOO_SHORT: "Please choose a password of at least {length} characters.",
    ErrorCode.STAFF_PASSWORD_TOO_LONG: "Please choose a password of at most {length} characters.",
    ErrorCode.STAFF_NOT_FOUND: "This staff account does not exist.",
    ErrorCode.STAFF_SELF_DISABLE: "You cannot disable your own account; another administrator can.",
    ErrorCode.STAFF_LAST_ADMIN: "This is the last active administrator: make another account an administrator "
                                "first.",
    ErrorCode.STAFF_ALREADY_DISABLED: "This account is disabled already.",
    ErrorCode.STAFF_ROLE_UNCHANGED: "This account has this role already.",
    ErrorCode.STAFF_NO_SECOND_FACTOR: "This account has no second factor to reset.",
    ErrorCode.EXPORT_LINK_INVALID: "This download link is not valid for your session. Please export again from "
                                   "the order list.",
    ErrorCode.EXPORT_LINK_EXPIRED: "This download link has expired (links last {minutes} minutes). Please export "
                                   "again from the order list.",
    ErrorCode.REFUND_NOTHING_CAPTURED: "Nothing has been charged on this order, so there is nothing to refund "
                                       "(a hold is released, never refunded).",
    ErrorCode.REFUND_OVER_REFUNDABLE: "This refund ({amount}) is more than what can still be refunded "
                                      "({refundable}).",
    ErrorCode.REFUND_LINE_UNKNOWN: "{line} is not a line of this order.",
    ErrorCode.REFUND_QUANTITY_INVALID: "{line}: the quantity to refund must be between 1 and {refundable}, the "
                                       "shipped pieces not yet refunded.",
    ErrorCode.REFUND_REASON_UNKNOWN: "Please choose a refund reason from the list.",
    ErrorCode.REFUND_AMOUNT_INVALID: "Please enter lines or an amount above zero to refund.",
    ErrorCode.REFUND_NOT_FOUND: "This refund does not exist.",
    ErrorCode.REFUND_NOT_AWAITING_APPROVAL: "This refund is {status}, not awaiting approval.",
    ErrorCode.REFUND_SAME_APPROVER: "A refund must be approved by someone other than the person who asked for it.",
    ErrorCode.REFUND_FAILED: "The payment provider did not make the refund ({detail}); nothing was refunded.",
    ErrorCode.UNAVAILABLE_NOT_ALLOWED: "Only an approved or partly shipped order can have an item marked unavailable "
                                       "(this one is {status}).",
    ErrorCode.UNAVAILABLE_LINE_UNKNOWN: "{line} is not a line of this order.",
    ErrorCode.UNAVAILABLE_QUANTITY_INVALID: "{line}: the quantity must be between 1 and {remaining}, the pieces "
                                            "not yet shipped, cancelled or already marked unavailable.",
    ErrorCode.UNAVAILABLE_DATE_INVALID: "Please propose a new delivery date after today.",
    ErrorCode.UNAVAILABLE_CHOICE_UNKNOWN: "Please choose a new delivery date or a refund.",
    ErrorCode.UNAVAILABLE_LINK_INVALID: "This link is no longer valid. Please reply to our email and our client "
                                        "service will help you.",
    ErrorCode.DELAY_NOT_FOUND: "This order has no delivery delay being followed.",
    ErrorCode.DELAY_DATE_INVALID: "Please propose a business day after today as the new delivery date.",
    ErrorCode.DELAY_CHOICE_UNKNOWN: "Please accept the new delivery date or decline it.",
    ErrorCode.DELAY_LINK_INVALID: "This link is no longer valid. Please reply to our email and our client service "
                                  "will help you.",
    ErrorCode.REAUTHORIZE_LINK_INVALID: "This link is no longer valid: the order has shipped or been cancelled, or "
                                        "the link is incomplete. Please reply to our email and our client service "
                                        "will help you.",
    ErrorCode.REAUTHORIZE_NOT_NEEDED: "Your card is authorised for the rest of your order: there is nothing more to do.",
    ErrorCode.REAUTHORIZE_ATTEMPTS_EXHAUSTED: "No card could be authorised after several attempts. Your order is kept; "
                                              "please reply to our email and our client service will help you.",
    ErrorCode.EMAIL_NOT_FOUND: "This email does not exist.",
    ErrorCode.EMAIL_NOT_FAILED: "Only a failed email can be retried (this one is {status}); pending emails are sent "
                                "by the outbox on their own.",
    ErrorCode.CONFIRMATION_NOT_SENT: "This order has no confirmation yet: it is confirmed once the card is authorised.",
    ErrorCode.ERASURE_EMAIL_INVALID: "Please enter the email address the client ordered with.",
    ErrorCode.ERASURE_REASON_REQUIRED: "Please choose why the client's data is erased.",
    ErrorCode.SANCTIONS_FILE_MISSING: "Please choose the list's sdn.csv (alt.csv and add.csv with it).",
    ErrorCode.SANCTIONS_FILE_UNKNOWN: "Only the list's sdn.csv, alt.csv and add.csv can be imported (not {file}).",
    ErrorCode.SANCTIONS_FILE_TOO_LARGE: "{file} is larger than {limit} MB: is it the SDN list? Nothing was imported.",
    ErrorCode.SANCTIONS_FILE_EMPTY: "{file} is empty. Nothing was imported; the list in force stays.",
    ErrorCode.SANCTIONS_FILE_TRUNCATED: "{file} is cut short: it stops at line {line} without the end-of-file mark "
                                        "the published files carry. Download it again; the list in force stays.",
    ErrorCode.SANCTIONS_FILE_MALFORMED: "{file}, line {line}: {reason}. Nothing was imported; the list in force "
                                        "stays.",
    ErrorCode.SANCTIONS_PUBLISHED_INVALID: "Please give the publication date as YYYY-MM-DD, or leave it empty.",
    ErrorCode.DESTINATION_COUNTRY_UNKNOWN: "Please give the country as its two-letter ISO code (for example CU).",
    ErrorCode.DESTINATION_REGION_INVALID: "A region is its ISO 3166-2 code (for example UA-43), or empty to bar the "
                                          "whole country.",
    ErrorCode.DESTINATION_REGION_UNMATCHABLE: "No address of {country} names region {region}: give its postcode "
                                              "prefixes or place names, or the addresses in it cannot be recognised.",
    ErrorCode.DESTINATION_NAME_INVALID: "Please give the destination a name of at most {limit} characters.",
    ErrorCode.DESTINATION_PROGRAMME_INVALID: "Please say which sanctions programme bars it (at most {limit} "
                                             "characters).",
    ErrorCode.DESTINATION_PREFIX_INVALID: "Postcode prefixes are digits only, separated by commas (for example "
                                          "95, 96); \"{prefix}\" is not one.",
    ErrorCode.DESTINATION_PLACES_INVALID: "Place names are separated by commas: at most {limit} of them, each at "
                                          "most 80 characters.",
    ErrorCode.DESTINATION_EXISTS: "{name} is barred already: change or remove that row instead.",
    ErrorCode.DESTINATION_NOT_FOUND: "This destination is no longer listed; the list was changed meanwhile.",
    ErrorCode.TERMS_LABEL_INVALID: "A version label is 1 to 20 letters, digits, dots, dashes or underscores, "
                                   "starting with a letter or digit (for example 2026-07).",
    ErrorCode.TERMS_LABEL_TAKEN: "Version {version} already exists, published or as a draft: choose another label.",
    ErrorCode.TERMS_TITLE_INVALID: "Please give the terms a title of at most {limit} characters.",
    ErrorCode.TERMS_BODY_TOO_LONG: "The terms are {length} characters long; at most {limit} can be saved.",
    ErrorCode.TERMS_BODY_UNSTRUCTURED: "Write the terms as headings (lines starting with #) followed by their "
                                       "paragraphs, as the published versions are; every heading needs its text.",
    ErrorCode.TERMS_EFFECTIVE_INVALID: "Please give the date and time this version takes effect, or choose "
                                       "\"immediately\".",
    ErrorCode.TERMS_EFFECTIVE_PAST: "This time has passed: a version can only take effect from now on.",
    ErrorCode.TERMS_EFFECTIVE_BEFORE_LATEST: "Version {version} takes effect on {effective}; a new version must take "
                                             "effect after it.",
    ErrorCode.TERMS_DRAFT_NOT_FOUND: "This draft no longer exists: it was published or deleted meanwhile.",
    ErrorCode.TERMS_DRAFT_CHANGED: "This draft was changed meanwhile; read it again before publishing it.",
    ErrorCode.TERMS_VERSION_NOT_FOUND: "This version of the terms does not exist.",
    ErrorCode.PRICE_CHANGED: "Prices or shipping changed while you were checking out. Please check the new "
                             "total below and confirm again.",
    ErrorCode.CURRENCY_NOT_SOLD: "No market sells in {currency}.",
    ErrorCode.AMOUNT_INVALID: "Please enter an amount in figures, e.g. 12500 or 12500.00.",
    ErrorCode.AMOUNT_NOT_POSITIVE: "The amount must be more than zero.",
    ErrorCode.AMOUNT_TOO_PRECISE: "{currency} has {places} decimal places: please enter the amount with at most "
                                  "{places}.",
    ErrorCode.AMOUNT_TOO_LARGE: "This is above the ceiling of {currency} {limit}: please check the amount.",
    ErrorCode.PRODUCT_NOT_FOUND: "This watch does not exist in the catalogue.",
    ErrorCode.PRODUCT_REFERENCE_INVALID: "A reference is 3 to 40 capital letters, digits and dashes, e.g. VX-1001.",
    ErrorCode.PRODUCT_REFERENCE_TAKEN: "Reference {reference} is already in the catalogue.",
    ErrorCode.PRODUCT_NAME_INVALID: "Please give the watch a name of at most {limit} characters.",
    ErrorCode.PRODUCT_FIELD_INVALID: "Please fill this in, at most {limit} characters.",
    ErrorCode.PRODUCT_NUMBER_INVALID: "Please enter a number from {low} to {high}.",
    ErrorCode.PRODUCT_LIMIT_INVALID: "The limit per order is a whole number from 1 to {limit}.",
    ErrorCode.PRODUCT_COLLECTION_UNKNOWN: "Please choose one of the collections.",
    ErrorCode.PRODUCT_NOT_PRICED: "Give the watch a price in every market's currency before offering it "
                                  "(missing: {currencies}).",
    ErrorCode.STOCK_DELTA_INVALID: "Please enter a whole number of units to add (e.g. 3) or remove (e.g. -1), "
                                   "at most {limit} either way.",
    ErrorCode.STOCK_BELOW_ZERO: "Only {stock} in stock: the stock cannot go below zero.",
    ErrorCode.STOCK_REASON_INVALID: "Please choose why the stock changes.",
    ErrorCode.NOTE_TOO_LONG: "The note is at most {limit} characters.",
    ErrorCode.SHIPPING_ZONE_UNKNOWN: "There is no such shipping zone.",
    ErrorCode.IMAGE_TYPE_INVALID: "Please upload a PNG, JPEG or WebP photograph.",
    ErrorCode.IMAGE_TOO_LARGE: "The file is larger than {limit} MB.",
    ErrorCode.IMAGE_TOO_SMALL: "The photograph is {width} x {height} pixels; it needs at least {min} pixels on "
                               "each side.",
    ErrorCode.IMAGE_LIMIT: "A watch has at most {limit} photographs.",
    ErrorCode.IMAGE_NOT_FOUND: "This photograph is no longer on the watch.",
    ErrorCode.CARD_NUMBER_IN_TEXT: "This looks like a card number. Card details are never written into the shop: "
                                   "the client enters them in the payment form. Please remove it.",
    ErrorCode.PHONE_ORDER_LINK_INVALID: "This link does not open an order. Please use the link in our email as it "
                                        "is, or contact our client service.",
    ErrorCode.PHONE_ORDER_LINK_EXPIRED: "This link has expired and the order was not confirmed in time. Please "
                                        "contact our client service, who will gladly enter it again.",
    ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT: "This order is no longer waiting for the client's confirmation.",
    ErrorCode.PHONE_ORDER_PERSONAL_USE: "Please confirm that the client declared the watches are for their own "
                                        "use or a relative's (not for resale).",
    ErrorCode.PHONE_ORDER_NO_LINES: "Please choose at least one watch and its quantity.",
    ErrorCode.PHONE_ORDER_MOTO_OFF: "Card payments by telephone are not enabled for this shop: the client pays "
                                    "through the link we emailed.",
    ErrorCode.PHONE_ORDER_TERMS_NOT_READ: "Please confirm that the client accepted the terms and conditions on the "
                                          "telephone before taking the card.",
    ErrorCode.FIND_ORDER_NO_MATCH: "We could not open an order with this reference and email address. Please check "
                                   "both as they appear in your confirmation email, or contact our client service.",
    ErrorCode.FIND_ORDER_TOO_MANY: "Too many attempts to find an order. Please wait a little and try again, or use "
                                   "the link in your confirmation email.",
    ErrorCode.UNEXPECTED: "Something went wrong on our side. Nothing was lost; please try again.",
}


def message(code: ErrorCode, **params: object) -> str:
    """The sentence the client sees for `code`; a missing field leaves the generic wording, never a crash."""
    text = MESSAGES[code]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return MESSAGES[ErrorCode.UNEXPECTED] if "{" in text else text


@dataclass(frozen=True)
class Refusal:
    """A code with its message parameters, carried from a rule to the page."""

    code: ErrorCode
    params: dict[str, object] = field(default_factory=dict)
    field: str = ""

    @property
    def message(self) -> str:
        return message(self.code, **self.params)
