/* Form logic in the browser: the same answers as the server, computed from a JSON program.
 *
 * docs/FORMS.md ("Form logic") is the contract and collector/forms/expressions/
 * evaluate.py the reference; this file must agree with both exactly. Numbers
 * are exact decimals (BigInt mantissa and a scale), never floating point.
 *
 * CONTRACT (used by static/form_page.js and by the differential test):
 *
 *   window.collectorLogic.evaluate(program, rawValues, options) -> result
 *
 *   program    the object collector/web/logic_json.py builds (the page embeds it
 *              as <script type="application/json" id="form-logic">).
 *   rawValues  {field name: what the browser would send}: a string for every
 *              field but multi_choice, a list of strings for multi_choice (a
 *              string there counts as one tick). A missing name is "" (no
 *              ticks); for a non-multi field a list counts as its first item,
 *              as the server's formdata.get() does. Values sent for calculated
 *              fields are ignored, as on the server.
 *   options    optional {today: "YYYY-MM-DD"}: the date today() returns; the
 *              default is today in the form's timezone (Intl).
 *
 *   result = {
 *     shown:  {name: true | false}       every field: relevance true (hidden if false or unknown)
 *     values: {name: value | null}       what the server would store:
 *               integer, decimal  "42", "-0.50": plain notation, the value's own
 *                                 scale (a calculated decimal with places has
 *                                 exactly that many), no exponent, no "-0";
 *                                 compare numbers by value
 *               text, long_text, email, choice   the trimmed text
 *               date              "YYYY-MM-DD"
 *               datetime          the instant in UTC as Python's
 *                                 datetime.isoformat() writes it:
 *                                 "2026-03-29T01:30:00+00:00", microseconds only
 *                                 when not zero ("…:00.250000+00:00")
 *               boolean           "true" | "false"
 *               multi_choice      a list of codes in the form's order ([] = no ticks)
 *             null when the field is hidden, empty, or its text would be refused
 *             (a refused value counts as empty for every expression)
 *     errors: {name: message}            only fields with a problem, in the server's
 *                                        words: the value's own check (required,
 *                                        format, bounds, lengths, …), a calculated
 *                                        value outside its min/max/lengths, or a
 *                                        constraint that is false; hidden fields never
 *     kinds:  {name: "value" | "calculation" | "constraint"}   which of the three each error is
 *     sections: {name: true | false}     whether each section is shown
 *   }
 *
 * Program (see logic_json.py): {timezone, zone, strip, messages, limits, fields:
 * [field in evaluation order], sections: [{name, shown_when}]}; each field
 * {name, type, required, shown_when, calculation, constraint, constraint_message,
 * rules, messages}; each expression node {k, t, ...}: lit {v}, ref {n},
 * empty {neg, a}, neg {a}, arith {op, l, r}, cmp {op, l, r}, logic {op, l, r},
 * call {f, a: [...]}. `zone` holds the server's UTC offsets for the form's zone over
 * 1900-2100 (Python's zoneinfo data); outside it, or without it, Intl's data is used.
 *
 * Inside, a value is null (empty), a boolean, a string (text), {m: BigInt, s:
 * scale} (a number m / 10^s), a Number (a date, as days since 1970-01-01), a
 * BigInt (a date-time, as microseconds since 1970-01-01T00:00Z), or an array
 * of codes (multi_choice).
 */
(function (root) {
  "use strict";
  if (typeof BigInt !== "function" || !root.Intl) return;  // the page then works as without JavaScript

  var ZERO = BigInt(0), ONE = BigInt(1), TWO = BigInt(2), TEN = BigInt(10);
  var MICROS = BigInt(1000000);
  var DIV_PLACES = 10;  // tree.DIV_PLACES: a div keeps 10 places, cut toward zero
  var powers = [ONE];

  function pow10(n) {
    while (powers.length <= n) powers.push(powers[powers.length - 1] * TEN);
    return powers[n];
  }

  /* Maps keyed by field names and choice codes have no prototype: a field named
   * `constructor` or a code "toString" must not find Object.prototype's members. */
  function map() { return Object.create(null); }
  function hasOwn(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  // ---- exact decimals -------------------------------------------------------

  function num(m, s) { return { m: m, s: s }; }
  function isNumber(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function atScale(a, s) { return a.m * pow10(s - a.s); }

  function add(a, b) { var s = Math.max(a.s, b.s); return num(atScale(a, s) + atScale(b, s), s); }
  function sub(a, b) { var s = Math.max(a.s, b.s); return num(atScale(a, s) - atScale(b, s), s); }
  function mul(a, b) { return num(a.m * b.m, a.s + b.s); }

  function div(a, b) {
    if (b.m === ZERO) return null;
    // a/b * 10^10 = a.m * 10^(b.s + 10) / (b.m * 10^a.s); BigInt division truncates toward zero.
    return num(a.m * pow10(b.s + DIV_PLACES) / (b.m * pow10(a.s)), DIV_PLACES);
  }

  function mod(a, b) {
    if (b.m === ZERO) return null;
    var s = Math.max(a.s, b.s);
    return num(atScale(a, s) % atScale(b, s), s);  // BigInt %: the sign of the dividend
  }

  function compareNumbers(a, b) {
    var s = Math.max(a.s, b.s), x = atScale(a, s), y = atScale(b, s);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  function truncate(a) { return num(a.m / pow10(a.s), 0); }

  function roundTo(a, places) {  // half away from zero
    if (places >= a.s) return num(a.m * pow10(places - a.s), places);
    var unit = pow10(a.s - places), q = a.m / unit, r = a.m % unit;
    if ((r < ZERO ? -r : r) * TWO >= unit) q += a.m < ZERO ? -ONE : ONE;
    return num(q, places);
  }

  function numberText(a) {
    var negative = a.m < ZERO, digits = (negative ? -a.m : a.m).toString();
    if (a.s > 0) {
      while (digits.length <= a.s) digits = "0" + digits;
      digits = digits.slice(0, digits.length - a.s) + "." + digits.slice(digits.length - a.s);
    }
    return (negative ? "-" : "") + digits;  // BigInt has no -0, so neither has this
  }

  function parseNumber(text) {  // text already matched the server's pattern
    var sign = ONE;
    if (text[0] === "+" || text[0] === "-") { if (text[0] === "-") sign = -ONE; text = text.slice(1); }
    var dot = text.indexOf("."), whole = dot === -1 ? text : text.slice(0, dot);
    var fraction = dot === -1 ? "" : text.slice(dot + 1);
    return num(sign * BigInt((whole + fraction) || "0"), fraction.length);
  }

  /* number(text): tree.NUMBER_TEXT once spaces are trimmed, at most limits.max_number_chars
   * long; anything else is empty. Whole when the type checker says so (a choice of whole codes). */
  var NUMBER_TEXT = /^[+-]?[0-9]+(\.[0-9]+)?$/;

  function numberFromText(text, maxChars) {
    // A loop, not / +$/: that regex is quadratic on a long run of spaces inside a long text.
    var start = 0, end = text.length;
    while (start < end && text[start] === " ") start++;
    while (end > start && text[end - 1] === " ") end--;
    if (end - start > maxChars) return null;
    text = text.slice(start, end);
    return NUMBER_TEXT.test(text) ? parseNumber(text) : null;
  }

  // ---- dates: days since 1970-01-01, proleptic Gregorian ----------------------

  function daysFromCivil(y, m, d) {
    y -= m <= 2 ? 1 : 0;
    var era = Math.floor(y / 400), yoe = y - era * 400;
    var doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
  }

  function civilFromDays(z) {
    z += 719468;
    var era = Math.floor(z / 146097), doe = z - era * 146097;
    var yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    var doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    var mp = Math.floor((5 * doy + 2) / 153), d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    var m = mp < 10 ? mp + 3 : mp - 9;
    return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
  }

  function daysInMonth(y, m) {
    return [31, (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  }

  function pad(n, width) { var t = String(n); while (t.length < width) t = "0" + t; return t; }

  function dateText(days) {
    var c = civilFromDays(days);
    return pad(c[0], 4) + "-" + pad(c[1], 2) + "-" + pad(c[2], 2);
  }

  var DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

  function parseDate(text) {  // date.fromisoformat on the server's pattern; null if refused
    var g = DATE.exec(text);
    if (!g) return null;
    var y = +g[1], m = +g[2], d = +g[3];
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
    return daysFromCivil(y, m, d);
  }

  // ---- date-times: microseconds since the epoch, UTC --------------------------

  var DATETIME = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;
  var SECONDS_PER_DAY = 86400;
  // Zone lookups stay inside years 1-9999, where Intl writes plain years; a zone's
  // offset does not change in the first or last days of that range.
  var FIRST_SECOND = daysFromCivil(1, 1, 2) * SECONDS_PER_DAY;
  var LAST_SECOND = daysFromCivil(9999, 12, 30) * SECONDS_PER_DAY;
  var formatters = {}, offsets = {};

  function formatter(zone) {
    if (!formatters[zone]) {
      formatters[zone] = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
        hour: "numeric", minute: "numeric", second: "numeric" });
    }
    return formatters[zone];
  }

  function wallParts(zone, second) {
    var parts = {};
    formatter(zone).formatToParts(new Date(second * 1000)).forEach(function (p) { parts[p.type] = +p.value; });
    return parts;
  }

  var tables = {};  // zone: the server's offsets (program.zone), used where they reach

  function tableOffset(table, second) {
    var changes = table.changes, low = 0, high = changes.length / 2;  // changes before `low` have happened
    while (low < high) {
      var middle = (low + high) >> 1;
      if (changes[2 * middle] <= second) low = middle + 1; else high = middle;
    }
    return low === 0 ? table.initial : changes[2 * low - 1];
  }

  function offsetAt(zone, second) {  // seconds east of UTC in effect at this instant
    var table = tables[zone];
    if (table && second >= table.from && second < table.to) return tableOffset(table, second);
    second = Math.min(Math.max(second, FIRST_SECOND), LAST_SECOND);
    var key = zone + " " + second;
    if (!(key in offsets)) {
      var p = wallParts(zone, second);
      offsets[key] = daysFromCivil(p.year, p.month, p.day) * SECONDS_PER_DAY +
        p.hour * 3600 + p.minute * 60 + p.second - second;
    }
    return offsets[key];
  }

  /* The offset Python's zoneinfo gives a wall time with fold=0: the one that
   * makes it a real instant, the earlier one (the offset before the change) in
   * a fold, and in a gap the offset in effect before the gap. */
  function wallOffset(zone, wall) {
    var seen = [offsetAt(zone, wall - SECONDS_PER_DAY), offsetAt(zone, wall + SECONDS_PER_DAY)];
    seen.slice().forEach(function (o) { seen.push(offsetAt(zone, wall - o)); });
    var real = seen.filter(function (o) { return offsetAt(zone, wall - o) === o; });
    if (real.length) return Math.max.apply(null, real);
    for (var i = 0; i < seen.length; i++) {
      var other = offsetAt(zone, wall - seen[i]);
      if (offsetAt(zone, wall - other) === seen[i]) return Math.min(seen[i], other);  // the gap's two sides
    }
    return seen[0];
  }

  var EARLIEST = BigInt(FIRST_SECOND) * MICROS, LATEST = BigInt(LAST_SECOND) * MICROS;

  /* Return {value} or {error: "datetime" | "range"} as values.parse_datetime decides. */
  function parseDatetime(text, zone) {
    var g = DATETIME.exec(text);
    var day = g && parseDate(g[1]);
    if (day === null || +g[2] > 23 || +g[3] > 59 || (g[4] && +g[4] > 59)) return { error: "datetime" };
    var offset = null;
    if (g[6] === "Z") offset = 0;
    else if (g[6]) {
      offset = (g[6][0] === "-" ? -1 : 1) * (+g[6].slice(1, 3) * 3600 + +g[6].slice(4, 6) * 60);
      if (Math.abs(offset) >= SECONDS_PER_DAY) return { error: "datetime" };
    }
    var wall = day * SECONDS_PER_DAY + +g[2] * 3600 + +g[3] * 60 + (g[4] ? +g[4] : 0);
    if (offset === null) offset = wallOffset(zone, wall);
    var micros = BigInt(wall - offset) * MICROS + BigInt(g[5] ? (g[5] + "00000").slice(0, 6) : 0);
    if (micros < EARLIEST || micros > LATEST) return { error: "range" };
    return { value: micros };
  }

  function datetimeText(micros) {
    var second = Number(micros / MICROS), fraction = Number(micros % MICROS);
    if (fraction < 0) { fraction += 1000000; second -= 1; }
    var days = Math.floor(second / SECONDS_PER_DAY), rest = second - days * SECONDS_PER_DAY;
    return dateText(days) + "T" + pad(Math.floor(rest / 3600), 2) + ":" + pad(Math.floor(rest / 60) % 60, 2) +
      ":" + pad(rest % 60, 2) + (fraction ? "." + pad(fraction, 6) : "") + "+00:00";
  }

  /* str() of a Python datetime in the form's zone: "2026-03-29 02:30:00+01:00". */
  function localDatetimeText(micros, zone) {
    var offset = offsetAt(zone, Number(micros / MICROS));
    var text = datetimeText(micros + BigInt(offset) * MICROS).replace("T", " ").replace("+00:00", "");
    var size = Math.abs(offset);
    return text + (offset < 0 ? "-" : "+") + pad(Math.floor(size / 3600), 2) + ":" +
      pad(Math.floor(size / 60) % 60, 2) + (size % 60 ? ":" + pad(size % 60, 2) : "");
  }

  function todayIn(zone) {
    var now = Math.floor(Date.now() / 1000);
    return Math.floor((now + offsetAt(zone, now)) / SECONDS_PER_DAY);
  }

  // ---- text ---------------------------------------------------------------------

  function codePoints(text) { return Array.from(text).length; }

  function stripper(chars) {
    var set = map();
    Array.from(chars).forEach(function (c) { set[c] = true; });
    return function (text) {
      var items = Array.from(text), start = 0, end = items.length;
      while (start < end && set[items[start]]) start++;
      while (end > start && set[items[end - 1]]) end--;
      return items.slice(start, end).join("");
    };
  }

  function characterClass(chars) {
    return Array.from(chars).map(function (c) { return "\\u{" + c.codePointAt(0).toString(16) + "}"; }).join("");
  }

  function compilePattern(pattern) {  // Python's re.fullmatch, as near as JavaScript gets
    try { return new RegExp("^(?:" + pattern + ")$", "u"); } catch (error) { return null; }
  }

  // ---- expressions ----------------------------------------------------------------

  function isEmpty(v) { return v === null || v === "" || (Array.isArray(v) && v.length === 0); }

  function compare(a, b) {
    if (isNumber(a)) return compareNumbers(a, b);
    if (typeof a === "string") {  // by code point, as Python compares str
      var x = Array.from(a), y = Array.from(b);
      for (var i = 0; i < Math.min(x.length, y.length); i++) {
        if (x[i] !== y[i]) return x[i].codePointAt(0) < y[i].codePointAt(0) ? -1 : 1;
      }
      return x.length - y.length < 0 ? -1 : x.length > y.length ? 1 : 0;
    }
    return a < b ? -1 : a > b ? 1 : 0;  // dates, date-times, booleans
  }

  var COMPARE = {
    "=": function (c) { return c === 0; }, "!=": function (c) { return c !== 0; },
    "<": function (c) { return c < 0; }, "<=": function (c) { return c <= 0; },
    ">": function (c) { return c > 0; }, ">=": function (c) { return c >= 0; }
  };

  function arith(node, a, b) {
    if (a === null || b === null) return null;
    if (typeof a === "number" && typeof b === "number") return num(BigInt(a - b), 0);  // date - date: days
    if (typeof a === "number") return node.op === "+" ? a + Number(b.m) : a - Number(b.m);  // date ± days
    if (typeof b === "number") return b + Number(a.m);
    switch (node.op) {
      case "+": return add(a, b);
      case "-": return sub(a, b);
      case "*": return mul(a, b);
      case "div": return div(a, b);
      case "mod": return mod(a, b);
    }
    throw new Error("unknown operator " + node.op);
  }

  function kleeneAnd(a, b) { return a === false || b === false ? false : a === true && b === true ? true : null; }
  function kleeneOr(a, b) { return a === true || b === true ? true : a === false && b === false ? false : null; }

  function asText(v) {  // concat of a non-text value, written as the server stores it
    if (typeof v === "string") return v;
    if (isNumber(v)) return numberText(v);
    if (typeof v === "number") return dateText(v);
    if (typeof v === "boolean") return v ? "true" : "false";
    return String(v);
  }

  function years(from, to) {
    var a = civilFromDays(from), b = civilFromDays(to);
    var before = b[1] < a[1] || (b[1] === a[1] && b[2] < a[2]);
    return num(BigInt(b[0] - a[0] - (before ? 1 : 0)), 0);
  }

  function call(node, env) {
    var args = node.a, f = node.f;
    if (f === "if") {
      return ev(args[0], env) === true ? ev(args[1], env) : ev(args[2], env);  // unknown takes else
    }
    var v = args.map(function (a) { return ev(a, env); });
    switch (f) {
      case "not": return v[0] === null ? null : !v[0];
      case "selected":
        if (v[0] === null) return false;
        return Array.isArray(v[0]) ? v[0].indexOf(v[1]) !== -1 : v[0] === v[1];
      case "count-selected":
        return num(BigInt(v[0] === null ? 0 : Array.isArray(v[0]) ? v[0].length : 1), 0);
      case "coalesce":
        for (var i = 0; i < v.length; i++) if (v[i] !== null) return v[i];
        return null;
      case "string-length": return num(BigInt(v[0] === null ? 0 : codePoints(asText(v[0]))), 0);
      case "concat":
        var joined = v.filter(function (x) { return x !== null; }).map(asText).join("");
        return joined === "" ? null : joined;
      case "number":
        return typeof v[0] === "string" ? numberFromText(v[0], env.limits.max_number_chars) : v[0];
      case "int": return v[0] === null ? null : truncate(v[0]);
      case "round": return v[0] === null || v[1] === null ? null : roundTo(v[0], Number(v[1].m));
      case "years-between": return v[0] === null || v[1] === null ? null : years(v[0], v[1]);
      case "today": return env.today();
    }
    throw new Error("unknown function " + f);
  }

  function ev(node, env) {
    switch (node.k) {
      case "lit": return node.value;
      case "ref": return env.values[node.n] === undefined ? null : env.values[node.n];
      case "empty": return isEmpty(ev(node.a, env)) !== node.neg;
      case "neg":
        var x = ev(node.a, env);
        return x === null ? null : num(-x.m, x.s);
      case "arith": return arith(node, ev(node.l, env), ev(node.r, env));
      case "cmp":
        var a = ev(node.l, env), b = ev(node.r, env);
        return a === null || b === null ? null : COMPARE[node.op](compare(a, b));
      case "logic":
        return (node.op === "and" ? kleeneAnd : kleeneOr)(ev(node.l, env), ev(node.r, env));
      case "call": return call(node, env);
    }
    throw new Error("unknown node " + node.k);
  }

  // ---- preparing a program: literals into values, rules into checks -------------

  function literal(node, zone) {
    var v = node.v;
    if (v === null || v === undefined) return null;
    if (node.t === "integer" || node.t === "decimal") return parseNumber(String(v));
    if (node.t === "date") return parseDate(v);
    if (node.t === "datetime") return parseDatetime(v, zone).value;
    return v;
  }

  function prepareNode(node, zone) {
    if (!node) return null;
    var copy = {};
    Object.keys(node).forEach(function (key) { copy[key] = node[key]; });
    if (node.k === "lit") copy.value = literal(node, zone);
    ["a", "l", "r"].forEach(function (key) {
      if (Array.isArray(node[key])) copy[key] = node[key].map(function (n) { return prepareNode(n, zone); });
      else if (node[key] && typeof node[key] === "object") copy[key] = prepareNode(node[key], zone);
    });
    return copy;
  }

  function bound(type, text, zone) {
    if (text === null || text === undefined) return null;
    return literal({ t: type === "integer" || type === "decimal" ? type : type === "date" ? "date" :
                    type === "datetime" ? "datetime" : "text", v: text }, zone);
  }

  function prepare(program) {
    if (program.__prepared) return program.__prepared;
    var zone = program.timezone;
    if (program.zone) tables[zone] = program.zone;
    var prepared = {
      zone: zone, strip: stripper(program.strip), messages: program.messages, limits: program.limits,
      email: new RegExp("^[^@" + characterClass(program.strip) + "]+@[^@" + characterClass(program.strip) +
                        "]+\\.[^@" + characterClass(program.strip) + "]+$", "u"),
      fields: program.fields.map(function (f) {
        var rules = f.rules || {};
        return {
          name: f.name, type: f.type, required: !!f.required, messages: f.messages || {},
          shownWhen: prepareNode(f.shown_when, zone), calculation: prepareNode(f.calculation, zone),
          constraint: prepareNode(f.constraint, zone), constraintMessage: f.constraint_message,
          rules: rules, min: bound(f.type, rules.min, zone), max: bound(f.type, rules.max, zone),
          pattern: rules.pattern ? compilePattern(rules.pattern) : null
        };
      }),
      sections: (program.sections || []).map(function (s) {
        return { name: s.name, shownWhen: prepareNode(s.shown_when, zone) };
      })
    };
    try { Object.defineProperty(program, "__prepared", { value: prepared }); } catch (error) { /* frozen */ }
    return prepared;
  }

  // ---- a field's own value, as collector/forms/validation.py checks it -------------

  function refuse(message) { return { error: message }; }

  function lengthProblem(field, text) {
    var used = codePoints(text), rules = field.rules;
    if (rules.max_length && used > rules.max_length) return field.messages.too_long.replace("{used}", used);
    if (rules.min_length && used < rules.min_length) return field.messages.too_short.replace("{used}", used);
    return null;
  }

  function rangeProblem(field, value) {
    if (field.min !== null && compare(value, field.min) < 0) return field.messages.below;
    if (field.max !== null && compare(value, field.max) > 0) return field.messages.above;
    return null;
  }

  function typed(field, text, p) {
    var m = p.messages, limits = p.limits, rules = field.rules;
    switch (field.type) {
      case "text": case "long_text": case "email":
        var problem = lengthProblem(field, text);
        if (problem) return refuse(problem);
        if (field.pattern && !field.pattern.test(text)) return refuse(field.messages.pattern);
        if (field.type === "email" && !p.email.test(text)) return refuse(m.email);
        return { value: text };
      case "integer":
        if (text.length > limits.max_number_chars || !/^[+-]?[0-9]+$/.test(text)) return refuse(m.whole_number);
        var whole = parseNumber(text);
        if (whole.m < BigInt(limits.int_min) || whole.m > BigInt(limits.int_max)) return refuse(m.int_range);
        return { value: whole };
      case "decimal":
        if (text.length > limits.max_number_chars || !/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(text)) return refuse(m.number);
        var decimal = parseNumber(text);
        if (rules.places !== null && rules.places !== undefined && decimal.s > rules.places) return refuse(field.messages.places);
        return { value: decimal };
      case "date":
        var day = parseDate(text);
        return day === null ? refuse(m.date) : { value: day };
      case "datetime":
        var moment = parseDatetime(text, p.zone);
        return moment.error ? refuse(moment.error === "range" ? m.datetime_range : m.datetime) : moment;
      case "boolean":
        return text === "true" ? { value: true } : text === "false" ? { value: false } : refuse(field.messages.required);
      case "choice":
        return (rules.choices || []).indexOf(text) === -1 ? refuse(m.unlisted_choice) : { value: text };
    }
    throw new Error("unknown field type " + field.type);
  }

  function multiChoice(field, raw, p) {
    var items = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
    var chosen = map(), codes = field.rules.choices || [], any = false;
    for (var i = 0; i < items.length; i++) {
      var item = p.strip(String(items[i]));
      if (!item) continue;
      if (codes.indexOf(item) === -1) return refuse(p.messages.unlisted_choices);
      chosen[item] = any = true;
    }
    if (field.required && !any) return refuse(field.messages.required);
    return { value: codes.filter(function (code) { return chosen[code]; }) };  // the form's order
  }

  function ownValue(field, raw, p) {
    if (field.type === "multi_choice") return multiChoice(field, raw, p);
    if (Array.isArray(raw)) raw = raw.length ? raw[0] : "";
    var text = p.strip(String(raw === undefined || raw === null ? "" : raw).split("\r\n").join("\n"));
    if (!text) return field.required ? refuse(field.messages.required) : { value: null };
    if (text.indexOf("\u0000") !== -1) return refuse(p.messages.nul);
    var result = typed(field, text, p);
    if (result.error) return result;
    var outside = rangeProblem(field, result.value);
    return outside ? refuse(outside) : result;
  }

  // ---- calculated fields: the value the server stores, and its limits --------------

  function stored(field, value) {
    if (value === null) return null;
    if (field.type === "decimal" && field.rules.places !== null && field.rules.places !== undefined) {
      return roundTo(value, field.rules.places);
    }
    if (field.type === "integer" && isNumber(value)) return truncate(value);  // typecheck: already whole
    return value === "" ? null : value;
  }

  /* What validation.check_typed says of a value nobody typed, in messages.calculated's words. */
  function calculationProblem(field, value, p) {
    var problem = typedProblem(field, value, p);
    if (!problem) return null;
    var shown = typeof value === "bigint" ? localDatetimeText(value, p.zone) : outward(value);
    return p.messages.calculated.replace(/\{(value|problem)\}/g, function (_, key) {
      return key === "value" ? shown : problem;
    });
  }

  function typedProblem(field, value, p) {
    if (value === null) return null;
    if (field.type === "integer" &&
        (value.m < BigInt(p.limits.int_min) || value.m > BigInt(p.limits.int_max))) return p.messages.int_range;
    if (field.type === "text" || field.type === "long_text") {
      var problem = lengthProblem(field, value);
      if (problem) return problem;
      if (field.pattern && !field.pattern.test(value)) return field.messages.pattern;
    }
    if (field.type === "datetime" && (value < EARLIEST || value > LATEST)) return p.messages.datetime_range;
    return rangeProblem(field, value);
  }

  // ---- the whole form ---------------------------------------------------------------

  function outward(value) {
    if (value === null || typeof value === "string" || Array.isArray(value)) return value;
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "number") return dateText(value);
    if (typeof value === "bigint") return datetimeText(value);
    return numberText(value);
  }

  function evaluate(program, rawValues, options) {
    var p = prepare(program);
    rawValues = rawValues || {};
    var fixedToday = options && options.today ? parseDate(options.today) : null;
    var today = null;
    var values = map(), shown = map(), errors = map(), kinds = map();
    var env = { values: values, limits: p.limits, today: function () {
      if (today === null) today = fixedToday !== null ? fixedToday : todayIn(p.zone);
      return today;
    } };
    function fail(name, message, kind) { errors[name] = message; kinds[name] = kind; }

    // Dependencies first, so each relevance and calculation reads final values.
    p.fields.forEach(function (field) {
      shown[field.name] = field.shownWhen ? ev(field.shownWhen, env) === true : true;
      values[field.name] = null;
      if (!shown[field.name]) return;  // hidden: stored as NULL, never checked
      if (field.calculation) {
        values[field.name] = stored(field, ev(field.calculation, env));
        return;
      }
      var own = ownValue(field, hasOwn(rawValues, field.name) ? rawValues[field.name] : undefined, p);
      if (own.error) fail(field.name, own.error, "value");  // refused: empty for every expression
      else values[field.name] = own.value;
    });
    // Constraints may read fields that come later in the form, so they run once all are known.
    p.fields.forEach(function (field) {
      if (!shown[field.name] || errors[field.name]) return;
      var value = values[field.name];
      if (field.calculation) {
        var problem = calculationProblem(field, value, p);
        if (problem) return fail(field.name, problem, "calculation");
      }
      if (field.constraint && !isEmpty(value) && ev(field.constraint, env) === false) {
        fail(field.name, field.constraintMessage, "constraint");
      }
    });
    var sections = map();
    p.sections.forEach(function (section) {
      sections[section.name] = section.shownWhen ? ev(section.shownWhen, env) === true : true;
    });
    var out = map();
    Object.keys(values).forEach(function (name) { out[name] = outward(values[name]); });
    return { shown: shown, values: out, errors: errors, kinds: kinds, sections: sections };
  }

  root.collectorLogic = { evaluate: evaluate };
}(window));
