// 扶助资金对账 panel: reward and special assistance money by township, the payments
// behind each figure, and the fraud signals with their cases. Loaded after app.js and
// uses its helpers (t, $, table, getJSON, showHistory, lang, applyLanguage).
"use strict";

(() => {  // a scope of its own: nothing here can clash with app.js's names
// Labels of the page (data-i18n) join app.js's TEXT; the panel's own words stay here.
const LABELS = {
  zh: {
    nav_subsidies: "扶助资金对账", subsidies_title: "扶助资金对账（奖励扶助、特别扶助）", subsidy_year: "年度",
    subsidy_program: "项目", program_both: "全部", program_reward: "奖励扶助", program_special: "特别扶助",
    subsidy_hint: "应发 = 待发 + 已发 + 暂停/扣发 + 退回；点击柱形或表格行查看资金明细",
    subsidy_payments_title: "资金明细", subsidy_signals_title: "违规线索（虚报、冒领、克扣等）",
  },
  en: {
    nav_subsidies: "Subsidy reconciliation", subsidies_title: "Subsidy reconciliation (reward and special assistance)", subsidy_year: "Year",
    subsidy_program: "Program", program_both: "Both", program_reward: "Reward assistance", program_special: "Special assistance",
    subsidy_hint: "Entitled = pending + disbursed + withheld + returned; click a bar or a row for the payments behind it",
    subsidy_payments_title: "Payments", subsidy_signals_title: "Fraud signals (false reporting, fraudulent collection, skimming…)",
  },
};
const WORDS = {
  zh: {
    entitled: "应发金额", disbursed: "已发金额", withheld: "暂停/扣发金额", returned: "退回金额", pending: "待发金额",
    payments: "笔数", beneficiaries: "对象（确认/申报）", signals: "线索", reconciles: "对账", reconciled: "相符 ✓",
    not_reconciled: "不符 ✗", county_reconciles: "全县资金对账相符", county_differs: "全县资金对账不符，请核查",
    township_reconciles: "资金对账相符", township_differs: "资金对账不符，请核查",
    payment_id: "支付编号", program: "项目", amount: "金额（元）", bucket: "资金状态", status: "状态", changed_on: "日期",
    pattern: "线索类型", offence: "违规行为", detected_on: "发现日期", case_number: "案件编号", subject: "对象", yuan: "元",
    payments_of: "资金明细：",
  },
  en: {
    entitled: "Entitled", disbursed: "Disbursed", withheld: "Withheld", returned: "Returned", pending: "Pending",
    payments: "Payments", beneficiaries: "Beneficiaries (confirmed/reported)", signals: "Signals", reconciles: "Reconciles",
    reconciled: "yes ✓", not_reconciled: "NO ✗", county_reconciles: "The county's funds reconcile", county_differs: "The county's funds do not reconcile: check",
    township_reconciles: "the funds reconcile", township_differs: "the funds do not reconcile: check",
    payment_id: "Payment", program: "Program", amount: "Amount (yuan)", bucket: "Where it stands", status: "Status", changed_on: "Day",
    pattern: "Pattern", offence: "Offence", detected_on: "Detected", case_number: "Case", subject: "Subject", yuan: "yuan",
    payments_of: "Payments: ",
  },
};
Object.assign(TEXT.zh, LABELS.zh);
Object.assign(TEXT.en, LABELS.en);
const w = (key) => WORDS[lang][key] || t(key);
const BUCKETS = [["disbursed", "#2e7d32"], ["pending", "#5470c6"], ["withheld", "#ef6c00"], ["returned", "#9e1c1c"]];
const english = (code) => (code || "").replace(/_/g, " ");

function subsidyFilter() {
  const filter = { year: $("subsidy-year").value };
  if ($("subsidy-program").value) filter.program = $("subsidy-program").value;
  return filter;
}

function fillYears(body) {
  const select = $("subsidy-year");
  const years = body.years.length ? body.years : [body.year];
  if (select.options.length === years.length) return;
  select.innerHTML = "";
  years.forEach((year) => select.add(new Option(String(year), String(year), false, year === body.year)));
}

async function showPayments(filter, caption) {
  const query = new URLSearchParams({ ...subsidyFilter(), ...filter });
  const body = await getJSON(`/reports/subsidies/payments?${query}`);
  $("subsidy-caption").textContent = w("payments_of") + caption + ` (${body.rows.length})`;
  table($("subsidy-payments"), [["payment_id", w("payment_id")], ["township_name", t("township")],
    [(r) => (lang === "zh" ? r.program_name : english(r.program)), w("program")], ["amount", w("amount")],
    [(r) => (lang === "zh" ? r.bucket_name : r.bucket), w("bucket")], ["status", w("status")], ["changed_on", w("changed_on")]],
  body.rows, (row) => showHistory(row.payment_id));
  location.hash = "#subsidies";
}

function drawChart(rows) {
  const shown = rows.filter((r) => r.payments > 0);
  const chart = echarts.init($("subsidy-chart"));
  chart.clear();
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: { data: BUCKETS.map(([bucket]) => w(bucket)) },
    xAxis: { type: "category", data: shown.map((r) => r.township_name), axisLabel: { rotate: 30 } },
    yAxis: { type: "value", name: w("yuan") },
    series: BUCKETS.map(([bucket, color]) => ({
      name: w(bucket), type: "bar", stack: "funds", itemStyle: { color }, data: shown.map((r) => Number(r[bucket])),
    })),
  });
  chart.off("click");
  chart.on("click", (event) => {
    const [bucket] = BUCKETS[event.seriesIndex];
    const row = shown[event.dataIndex];
    showPayments({ township_code: row.township_code, bucket }, `${row.township_name} · ${w(bucket)}`);
  });
}

async function loadSubsidies() {
  const params = $("subsidy-year").value ? `?${new URLSearchParams(subsidyFilter())}` : "";
  const body = await getJSON(`/reports/subsidies${params}`);
  fillYears(body);
  // Cut to one township (a township officer's own): its row is its total, no county figure.
  const totals = body.county ? [body.county] : [];
  $("subsidy-check").textContent = body.county ? (body.reconciles ? w("county_reconciles") : w("county_differs"))
    : `${body.township_name} · ${body.reconciles ? w("township_reconciles") : w("township_differs")}`;
  $("subsidy-check").className = body.reconciles ? "" : "warn";
  drawChart(body.rows);
  const columns = [["township_name", t("township")], ["entitled", w("entitled")], ["disbursed", w("disbursed")], ["withheld", w("withheld")],
    ["returned", w("returned")], ["pending", w("pending")], ["payments", w("payments")],
    [(r) => `${r.beneficiaries.confirmed}/${r.beneficiaries.reported}`, w("beneficiaries")], ["signals", w("signals")],
    [(r) => (r.reconciles ? w("reconciled") : w("not_reconciled")), w("reconciles")]];
  table($("subsidy-table"), columns, [...body.rows, ...totals], (row) => (
    row === body.county ? showPayments({}, row.township_name) : showPayments({ township_code: row.township_code }, row.township_name)));
  const signals = await getJSON(`/reports/subsidies/signals?year=${body.year}`).catch(refusedIn($("subsidy-signals")));
  if (!signals) return;
  table($("subsidy-signals"), [["detected_on", w("detected_on")], ["township_name", t("township")],
    [(r) => (lang === "zh" ? r.offence_name : english(r.offence)), w("offence")], [(r) => (lang === "zh" ? r.pattern_name : english(r.pattern)), w("pattern")],
    ["amount", w("amount")], ["subject", w("subject")], ["case_number", w("case_number")]],
  signals.rows, (row) => row.case_number && showHistory(row.case_number));
}

applyLanguage();  // app.js translated the page before these labels were known
$("subsidy-year").addEventListener("change", loadSubsidies);
$("subsidy-program").addEventListener("change", loadSubsidies);
$("lang").addEventListener("click", loadSubsidies);  // after app.js's own handler switched the language
loadSubsidies().then(() => { document.body.dataset.subsidiesReady = "true"; });
})();
