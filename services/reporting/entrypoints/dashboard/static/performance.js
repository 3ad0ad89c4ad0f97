// Panels of the county-wide notice (通报), the cases summary, the township scorecard and
// the publications (published beside corrected figures). Loaded after app.js and uses
// its helpers (t, $, table, getJSON, lang, TEXT).
"use strict";

(() => {  // a scope of its own: nothing here can clash with app.js's or another panel's names
const LABELS = {
  zh: {
    nav_league: "时效与满意度通报", nav_cases_summary: "案件统计", nav_scorecard: "目标考核", nav_publications: "发布与更正",
    league_title: "办理时效与群众满意度通报", from: "起始日", to: "截止日", by: "统计口径", by_township: "按乡镇", by_section: "按科室",
    cases_summary_title: "案件统计（类别、状态、案龄、期限）", scorecard_title: "乡镇目标管理责任制考核", year: "年度",
    scorecard_hint: "得分 = 指标得分 × 权重 / 100；红色为一票否决", publications_title: "发布数与更正数",
    publications_hint: "发布后数字冻结不变；之后到达的数据只显示为更正", report: "报表", cut_off: "数据截止时间", officer: "发布人",
    publish: "发布", report_statistical: "统计报表", report_league: "时效与满意度通报", report_scorecard: "目标考核",
  },
  en: {
    nav_league: "Time limits & satisfaction", nav_cases_summary: "Cases summary", nav_scorecard: "Scorecard", nav_publications: "Published & corrected",
    league_title: "Processing time limits and citizen satisfaction", from: "From", to: "To", by: "By", by_township: "Township", by_section: "Section",
    cases_summary_title: "Cases by category, state, age and deadline", scorecard_title: "Township target-responsibility scorecard", year: "Year",
    scorecard_hint: "Points = score × weight / 100; red: one-vote veto", publications_title: "Published and corrected figures",
    publications_hint: "Published figures are frozen; later facts show only as corrections", report: "Report", cut_off: "Data cut-off", officer: "Officer",
    publish: "Publish", report_statistical: "Statistical report", report_league: "Time limits & satisfaction", report_scorecard: "Scorecard",
  },
};
const WORDS = {
  zh: {
    decided: "办结件数", median_working_days: "时长中位数(工作日)", p90_working_days: "90分位(工作日)", within_limit_rate: "按时办结率%",
    overdue: "超期件数", satisfaction_mean: "满意度", ratings: "评价数", rank_time_limit: "时效排名", rank_satisfaction: "满意度排名",
    group: "单位", county: "全县", cases: "件数", category: "类别", status: "状态", age_band: "案龄", deadline_status: "期限状态",
    rank: "名次", total: "总分", vetoes: "一票否决", published_at: "发布时间", period: "统计期", corrected: "是否更正",
    yes: "有更正", no: "无", table: "表", row: "行", column: "列", published: "发布数", current: "更正数", change: "差额",
    sha256: "校验值 (SHA-256)", verified: "校验通过", tampered: "校验失败",
  },
  en: {
    decided: "Decided", median_working_days: "Median (working days)", p90_working_days: "90th pct (working days)", within_limit_rate: "Within limit %",
    overdue: "Overdue", satisfaction_mean: "Satisfaction", ratings: "Ratings", rank_time_limit: "Time rank", rank_satisfaction: "Satisfaction rank",
    group: "Unit", county: "County", cases: "Cases", category: "Category", status: "State", age_band: "Age", deadline_status: "Deadline",
    rank: "Rank", total: "Total", vetoes: "One-vote veto", published_at: "Published at", period: "Period", corrected: "Corrected",
    yes: "corrected", no: "no", table: "Table", row: "Row", column: "Column", published: "Published", current: "Corrected", change: "Difference",
    sha256: "Checksum (SHA-256)", verified: "verified", tampered: "MISMATCH",
  },
};
Object.assign(TEXT.zh, LABELS.zh);
Object.assign(TEXT.en, LABELS.en);
const w = (key) => WORDS[lang][key] || t(key);
// Server labels are "中文 English": show the half of the page's language.
const half = (label) => { const at = label.indexOf(" "); return at < 0 ? label : lang === "zh" ? label.slice(0, at) : label.slice(at + 1); };
const lastYear = new Date().getFullYear() - 1;

async function loadLeague() {
  const query = new URLSearchParams({ from: $("league-from").value, to: $("league-to").value, by: $("league-by").value });
  const body = await getJSON(`/reports/league-tables?${query}`);
  const name = (r) => (body.by === "township" ? r.township_name || r.township_code : r.section);
  const chart = echarts.init($("league-chart"));
  chart.setOption({
    tooltip: {}, legend: {}, xAxis: { type: "category", data: body.rows.map(name), axisLabel: { rotate: 30 } },
    yAxis: [{ type: "value", name: w("within_limit_rate"), max: 100 }, { type: "value", name: w("satisfaction_mean"), min: 0, max: 5 }],
    series: [
      { name: w("within_limit_rate"), type: "bar", data: body.rows.map((r) => r.within_limit_rate), itemStyle: { color: "#5470c6" } },
      { name: w("satisfaction_mean"), type: "line", yAxisIndex: 1, data: body.rows.map((r) => r.satisfaction_mean), itemStyle: { color: "#9e1c1c" } },
    ],
  });
  const columns = ["decided", "median_working_days", "p90_working_days", "within_limit_rate", "overdue", "satisfaction_mean", "ratings", "rank_time_limit", "rank_satisfaction"];
  table($("league-table"), [[name, w("group")], ...columns.map((c) => [c, w(c)])], [...body.rows, { ...body.county, township_name: w("county"), section: w("county") }]);
  $("league-note").textContent = half(body.note);
}

async function loadCasesSummary() {
  const body = await getJSON(`/reports/cases/summary?as_of=${encodeURIComponent($("cases-as-of").value)}`);
  const container = $("cases-summary");
  container.innerHTML = "";
  Object.entries(body.by).forEach(([dimension, entries]) => {
    const node = document.createElement("table");
    node.className = "inline";
    table(node, [[(e) => half(e.label), w(dimension)], ["cases", w("cases")]], entries);
    container.appendChild(node);
  });
}

async function loadScorecard() {
  const body = await getJSON(`/reports/scorecard?year=${encodeURIComponent($("scorecard-year").value)}`);
  const indicatorColumns = body.weights.map((weight, index) => [
    (r) => { const i = r.indicators[index]; return `${i.raw ?? "—"} → ${i.score} × ${i.weight}% = ${i.points}`; },
    `${lang === "zh" ? weight.label : weight.label_en} (${weight.weight})`,
  ]);
  const node = $("scorecard-table");
  table(node, [["rank", w("rank")], ["township_name", t("township")], ["total", w("total")], ...indicatorColumns,
    [(r) => r.vetoes.map((v) => (lang === "zh" ? v.label : v.label_en)).join("；"), w("vetoes")]], body.rows);
  body.rows.forEach((row, index) => { if (row.vetoed) node.rows[index + 1].classList.add("veto"); });
}

async function loadPublications() {
  const body = await getJSON("/reports/publications");
  table($("publications-table"), [["published_at", w("published_at")], ["report", t("report")], [(r) => `${r.period_from} – ${r.period_to}`, w("period")],
    ["cut_off", t("cut_off")], ["officer", t("officer")]], body.rows, (row) => showPublication(row.publication_id));
}

async function showPublication(id) {
  const body = await getJSON(`/reports/publications/${encodeURIComponent(id)}`);
  $("publication-caption").textContent = `${body.report} ${body.period_from} – ${body.period_to} · ${w("sha256")} ${body.sha256.slice(0, 16)}… ${body.sha256_verified ? w("verified") : w("tampered")} · ${w("corrected")}: ${body.corrected ? w("yes") : w("no")}`;
  table($("publication-differences"), [["table", w("table")], ["row", w("row")], ["column", w("column")], ["published", w("published")],
    ["current", w("current")], ["change", w("change")]], body.differences);
}

async function publish() {
  const body = {
    report: $("publish-report").value, period_from: $("publish-from").value, period_to: $("publish-to").value,
    cut_off: $("publish-cut-off").value,  // the publisher is who is logged in
  };
  try {
    const created = await getJSON("/reports/publications", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    $("publish-result").textContent = created.publication_id;
    await loadPublications();
    await showPublication(created.publication_id);
  } catch (error) {
    $("publish-result").textContent = error.message;
  }
}

async function loadPerformance() {
  // County-wide panels: a township officer is refused them (403), and each says so.
  await Promise.all([loadLeague().catch(refusedIn($("league-table"))), loadCasesSummary().catch(refusedIn($("cases-summary"))),
    loadScorecard().catch(refusedIn($("scorecard-table"))), loadPublications().catch(refusedIn($("publications-table")))]);
}

$("league-from").value = `${lastYear}-01-01`;
$("league-to").value = `${lastYear}-12-31`;
$("cases-as-of").value = new Date().toISOString().slice(0, 10);
$("scorecard-year").value = String(lastYear);
$("publish-from").value = `${lastYear}-01-01`;
$("publish-to").value = `${lastYear}-12-31`;
$("publish-cut-off").value = `${new Date().toISOString().slice(0, 19)}+00:00`;
$("league-go").addEventListener("click", loadLeague);
$("cases-go").addEventListener("click", loadCasesSummary);
$("scorecard-go").addEventListener("click", loadScorecard);
$("publish-go").addEventListener("click", publish);
$("lang").addEventListener("click", loadPerformance);  // after app.js's own handler switched the language
loadPerformance().then(() => { document.body.dataset.performanceReady = "true"; });
})();
