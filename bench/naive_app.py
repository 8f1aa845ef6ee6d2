"""The baseline: the intake form written the way the seed tutorials write apps.

One model, an ORM object per request, commit, no validation, no CSRF, no
idempotency, text columns. It exists only to be measured next to the
collector (bench/run.py); never deploy it.
"""

import os

from flask import Flask, render_template_string, request
from flask_sqlalchemy import SQLAlchemy

FIELDS = ["participant_id", "site", "visit_at", "date_of_birth", "age_years", "weight_kg",
          "smoker", "conditions", "contact_email", "notes"]

app = Flask(__name__)
# The one fix the seeds need since: SQLAlchemy 2 refuses postgres:// and 2.1 picks
# psycopg 3 for postgresql:// (see DESIGN.md), so name the psycopg2 driver.
app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg2://" + os.environ["DATABASE_URL"].split("://", 1)[1]
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
db = SQLAlchemy(app)


class Dataentry(db.Model):
    __tablename__ = "naive_intake"
    id = db.Column(db.Integer, primary_key=True)
    participant_id = db.Column(db.Text())
    site = db.Column(db.Text())
    visit_at = db.Column(db.Text())
    date_of_birth = db.Column(db.Text())
    age_years = db.Column(db.Text())
    weight_kg = db.Column(db.Text())
    smoker = db.Column(db.Text())
    conditions = db.Column(db.Text())
    contact_email = db.Column(db.Text())
    notes = db.Column(db.Text())


PAGE = """<html><head><title>data entry</title></head><body>
<form method="POST" action="{{ url_for('post_to_db') }}">
{% for name in fields %}<label for="{{ name }}">{{ name }}</label>
<input type="text" id="{{ name }}" name="{{ name }}"><br>{% endfor %}
<button type="submit">Submit</button></form></body></html>"""


@app.route("/")
def enter_data():
    return render_template_string(PAGE, fields=FIELDS)


@app.route("/submit", methods=["POST"])
def post_to_db():
    entry = Dataentry(**{name: request.form.get(name) for name in FIELDS})
    try:
        db.session.add(entry)
        db.session.commit()
    except Exception as error:
        print("FAILED entry:", {name: request.form.get(name) for name in FIELDS}, error, flush=True)
    return 'Success! <a href="/">Enter more</a>'
