"""Peewee models over the tables that the SQL migrations create.

The migrations own the schema (triggers, generated columns and trigram indexes are beyond what peewee
writes); these models mirror it for the simple reads and writes, and a test checks that they match.
Generated columns are declared so that they can be read, and are never written.
"""

from __future__ import annotations

from peewee import (
    BigAutoField,
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    UUIDField,
)
from playhouse.postgres_ext import ArrayField, BinaryJSONField, PooledPsycopg3Database

# Bound once the command line knows where the database is (see db.session.bind).
database = PooledPsycopg3Database(None, max_connections=16, stale_timeout=600, timeout=30)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Edited(BaseModel):
    """Columns that every edited row has; the database fills them (defaults and the touch_row trigger)."""

    version = IntegerField(default=1)
    created_at = DateTimeField(null=True)
    created_by = TextField(null=True)
    updated_at = DateTimeField(null=True)
    updated_by = TextField(null=True)


class Settings(Edited):
    key = TextField(primary_key=True)
    value = TextField()


class Company(Edited):
    id = BigAutoField()
    name = TextField()
    tax_id = TextField(null=True)
    industry = TextField(null=True)
    website = TextField(null=True)


class Client(Edited):
    id = BigAutoField()
    external_key = TextField(null=True, unique=True)
    kind = TextField(default="person")
    last_name = TextField(default="")
    first_name = TextField(default="")
    middle_name = TextField(default="")
    gender = TextField(null=True)
    birth_date = DateField(null=True)
    company = ForeignKeyField(Company, null=True, column_name="company_id", backref="clients")
    position = TextField(default="")
    region = TextField(default="")
    city = TextField(default="")
    address = TextField(default="")
    postal_address = TextField(default="")
    tags = ArrayField(TextField, default=list)
    notes = TextField(default="")
    source = TextField(default="")
    referred_by = ForeignKeyField("self", null=True, column_name="referred_by_id", backref="referrals")
    assigned_to = TextField(null=True)
    consent_email = BooleanField(default=False)
    consent_email_at = DateTimeField(null=True)
    consent_email_source = TextField(default="")
    consent_sms = BooleanField(default=False)
    consent_sms_at = DateTimeField(null=True)
    consent_sms_source = TextField(default="")
    custom = BinaryJSONField(default=dict)
    # Maintained by the database; read-only here.
    purchase_count = IntegerField(null=True)
    total_spent = DecimalField(max_digits=14, decimal_places=2, null=True)
    total_profit = DecimalField(max_digits=14, decimal_places=2, null=True)
    first_purchase_at = DateTimeField(null=True)
    last_purchase_at = DateTimeField(null=True)
    category = TextField(null=True)
    search = TextField(null=True)


class ContactPoint(Edited):
    id = BigAutoField()
    client = ForeignKeyField(Client, column_name="client_id", backref="contacts", on_delete="CASCADE")
    kind = TextField()
    value = TextField()
    normalized = TextField()
    digits_reversed = TextField(null=True)
    is_primary = BooleanField(default=False)
    note = TextField(default="")

    class Meta:
        table_name = "contact_point"


class Relative(Edited):
    id = BigAutoField()
    client = ForeignKeyField(Client, column_name="client_id", backref="relatives", on_delete="CASCADE")
    relation = TextField(default="child")
    name = TextField()
    gender = TextField(null=True)
    birth_date = DateField(null=True)
    note = TextField(default="")


class Product(Edited):
    id = BigAutoField()
    sku = TextField(null=True, unique=True)
    name = TextField()
    category = TextField(default="")
    price = DecimalField(max_digits=12, decimal_places=2, default=0)
    cost = DecimalField(max_digits=12, decimal_places=2, null=True)
    subscription_days = IntegerField(null=True)
    active = BooleanField(default=True)


class Purchase(Edited):
    id = BigAutoField()
    client = ForeignKeyField(Client, column_name="client_id", backref="purchases", on_delete="CASCADE")
    purchased_at = DateTimeField()
    channel = TextField(default="shop")
    amount = DecimalField(max_digits=12, decimal_places=2)
    cost = DecimalField(max_digits=12, decimal_places=2, null=True)
    external_key = TextField(null=True, unique=True)
    note = TextField(default="")


class PurchaseLine(Edited):
    id = BigAutoField()
    purchase = ForeignKeyField(Purchase, column_name="purchase_id", backref="lines", on_delete="CASCADE")
    product = ForeignKeyField(Product, null=True, column_name="product_id", on_delete="SET NULL")
    description = TextField(default="")
    quantity = DecimalField(max_digits=12, decimal_places=3, default=1)
    price = DecimalField(max_digits=12, decimal_places=2)
    cost = DecimalField(max_digits=12, decimal_places=2, null=True)

    class Meta:
        table_name = "purchase_line"


class Subscription(Edited):
    id = BigAutoField()
    client = ForeignKeyField(Client, column_name="client_id", backref="subscriptions", on_delete="CASCADE")
    product = ForeignKeyField(Product, null=True, column_name="product_id", on_delete="SET NULL")
    purchase = ForeignKeyField(Purchase, null=True, column_name="purchase_id", on_delete="SET NULL")
    starts_on = DateField()
    ends_on = DateField()
    note = TextField(default="")


class Interaction(Edited):
    id = BigAutoField()
    client = ForeignKeyField(Client, column_name="client_id", backref="interactions", on_delete="CASCADE")
    kind = TextField()
    happened_at = DateTimeField(null=True)
    author = TextField(null=True)
    text = TextField(default="")
    outcome = TextField(default="")


class Reminder(Edited):
    id = BigAutoField()
    client = ForeignKeyField(Client, null=True, column_name="client_id", backref="reminders", on_delete="CASCADE")
    due_on = DateField()
    text = TextField()
    assignee = TextField(null=True)
    done = BooleanField(default=False)
    done_at = DateTimeField(null=True)


class CustomField(Edited):
    id = BigAutoField()
    name = TextField(unique=True)
    label = TextField()
    type = TextField()
    choices = ArrayField(TextField, default=list)
    position = IntegerField(default=0)

    class Meta:
        table_name = "custom_field"


class Segment(Edited):
    id = BigAutoField()
    name = TextField(unique=True)
    description = TextField(default="")
    filter = BinaryJSONField(default=dict)


class Template(Edited):
    id = BigAutoField()
    name = TextField(unique=True)
    channel = TextField()
    subject = TextField(default="")
    body = TextField(default="")
    cta_url = TextField(default="")
    html_body = TextField(default="")
    cta_label = TextField(default="")
    required_fields = ArrayField(TextField, default=list)


class Campaign(Edited):
    id = BigAutoField()
    name = TextField()
    channel = TextField()
    purpose = TextField(default="marketing")
    segment = ForeignKeyField(Segment, null=True, column_name="segment_id", on_delete="SET NULL")
    status = TextField(default="draft")
    scheduled_at = DateTimeField(null=True)
    audience = BinaryJSONField(null=True)
    paused_reason = TextField(default="")


class CampaignVariant(Edited):
    id = BigAutoField()
    campaign = ForeignKeyField(Campaign, column_name="campaign_id", backref="variants", on_delete="CASCADE")
    label = TextField(default="A")
    template = ForeignKeyField(Template, column_name="template_id")
    weight = IntegerField(default=1)

    class Meta:
        table_name = "campaign_variant"


class Message(BaseModel):
    id = BigAutoField()
    campaign = ForeignKeyField(Campaign, column_name="campaign_id", backref="messages", on_delete="CASCADE")
    variant = ForeignKeyField(CampaignVariant, null=True, column_name="variant_id", on_delete="SET NULL")
    client = ForeignKeyField(Client, column_name="client_id", on_delete="CASCADE")
    channel = TextField()
    address = TextField()
    status = TextField(default="queued")
    skip_reason = TextField(null=True)
    attempts = IntegerField(default=0)
    not_before = DateTimeField(null=True)
    lease_until = DateTimeField(null=True)
    leased_by = TextField(null=True)
    sent_at = DateTimeField(null=True)
    error = TextField(null=True)
    created_at = DateTimeField(null=True)
    lease_token = UUIDField(null=True)
    last_reply = TextField(null=True)


class Suppression(BaseModel):
    id = BigAutoField()
    channel = TextField()
    address = TextField()
    reason = TextField()
    created_at = DateTimeField(null=True)
    created_by = TextField(null=True)


class AuditLog(BaseModel):
    id = BigAutoField()
    at = DateTimeField()
    login = TextField()
    table_name = TextField()
    row_id = TextField(null=True)
    action = TextField()
    old_values = BinaryJSONField(null=True)
    new_values = BinaryJSONField(null=True)

    class Meta:
        table_name = "audit_log"


class SchemaMigration(BaseModel):
    version = IntegerField(primary_key=True)
    name = TextField()
    applied_at = DateTimeField()
    applied_by = TextField()

    class Meta:
        table_name = "schema_migration"


ALL_MODELS = (
    Settings, Company, Client, ContactPoint, Relative, Product, Purchase, PurchaseLine, Subscription,
    Interaction, Reminder, CustomField, Segment, Template, Campaign, CampaignVariant, Message,
    Suppression, AuditLog, SchemaMigration,
)
