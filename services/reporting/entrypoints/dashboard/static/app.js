// 数据看板: reads reporting's JSON endpoints; Chinese first, English on request.
"use strict";

const TEXT = {
  zh: {
    title: "元氏县人口和计划生育局 · 数据看板", nav_submissions: "受理情况", nav_sex_ratio: "出生人口性别比",
    nav_applications: "申请件", nav_cases: "案件", nav_audit: "审计", submissions_title: "各乡镇受理数",
    drill_hint: "点击柱形或表格行查看明细", sex_ratio_title: "出生人口性别比（女=100）", period: "统计期",
    refresh: "刷新", download_xlsx: "下载统计报表 (Excel)", drill_title: "明细记录", applications_title: "申请件",
    cases_title: "案件", audit_title: "审计：历史与某一时点状态", ref: "业务编号", as_of: "截至时点", query: "查询",
    reveal_legend: "查阅个人信息（查阅行为将被记录）", reader: "查阅人", reason: "查阅理由", reveal: "查阅",
    accepted: "受理数", township: "乡镇", births: "出生数", boys: "男", girls: "女", ratio: "性别比",
    interval: "95%区间", warning: "预警", band: "正常范围", record_id: "记录号", kind: "类别", section: "责任科室",
    occurred_at: "发生时间", history_of: "历史", event: "事件", time: "时间", version: "版本", state: "状态",
    records_of: "明细：", not_found: "未找到", lang: "English", logout: "退出登录",
  },
  en: {
    title: "Yuanshi County Family Planning Bureau · Dashboard", nav_submissions: "Submissions", nav_sex_ratio: "Sex ratio at birth",
    nav_applications: "Applications", nav_cases: "Cases", nav_audit: "Audit", submissions_title: "Accepted records by township",
    drill_hint: "Click a bar or a row for the records behind it", sex_ratio_title: "Sex ratio at birth (girls = 100)", period: "Period",
    refresh: "Refresh", download_xlsx: "Download the statistical report (Excel)", drill_title: "Records", applications_title: "Applications",
    cases_title: "Cases", audit_title: "Audit: history and state as of a moment", ref: "Reference", as_of: "As of", query: "Show",
    reveal_legend: "Read personal data (the reading is recorded)", reader: "Reader", reason: "Reason", reveal: "Reveal",
    accepted: "Accepted", township: "Township", births: "Births", boys: "Boys", girls: "Girls", ratio: "Ratio",
    interval: "95% interval", warning: "Warning", band: "Normal band", record_id: "Record", kind: "Kind", section: "Section",
    occurred_at: "Occurred at", history_of: "History", event: "Event", time: "Time", version: "Version", state: "State",
    records_of: "Records: ", not_found: "Not found", lang: "中文", logout: "Log out",
  },
};
let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
const t = (key) => TEXT[lang][key] || key;
const $ = (id) => document.getElementById(id);
const csrfToken = () => (document.cookie.split("; ").find((c) => c.startsWith("fpb_csrf=")) || "=").split("=")[1];
const getJSON = async (url, options) => {
  if (options && options.method && options.method !== "GET") {  // a change needs the login's CSRF token beside its session cookie
    options = { ...options, headers: { ...(options.headers || {}), "X-CSRF-Token": csrfToken() } };
  }
  const response = await fetch(url, options);
  if (response.status === 401) {  // no session, or it expired: log in (the service keeps the token, never this page)
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
    return new Promise(() => {});
  }
  const body = await response.json();
  if (!response.ok) throw new Error(JSON.stringify(body.detail || body));
  return body;
};

// A panel the logged-in user may not read (403: a township officer and the county-wide
// reports) says so in its place, and the other panels still load.
function refusedIn(node) {
  return (error) => {
    node.innerHTML = "";
    if (node.insertRow) node.insertRow().insertCell().textContent = error.message;
    else node.textContent = error.message;
  };
}

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  $("lang").textContent = t("lang");
}

function table(node, columns, rows, onClick) {
  node.innerHTML = "";
  const head = node.insertRow();
  columns.forEach(([, label]) => { const th = document.createElement("th"); th.textContent = label; head.appendChild(th); });
  rows.forEach((row) => {
    const tr = node.insertRow();
    if (onClick) { tr.className = "clickable"; tr.addEventListener("click", () => onClick(row)); }
    columns.forEach(([key]) => {
      const cell = tr.insertCell();
      const value = typeof key === "function" ? key(row) : row[key];
      cell.textContent = value === null || value === undefined ? "" : value;
    });
  });
}

async function showRecords(filter, caption) {
  const query = new URLSearchParams({ ...filter, limit: "200" });
  const body = await getJSON(`/reports/submissions/records?${query}`);
  $("drill-caption").textContent = t("records_of") + caption + ` (${body.rows.length})`;
  table($("drill-table"), [["record_id", t("record_id")], ["kind", t("kind")], ["township_name", t("township")], ["section", t("section")], ["occurred_at", t("occurred_at")]],
    body.rows, (row) => showHistory(row.submission_id));
  location.hash = "#drill";
}

async function loadSubmissions() {
  const body = await getJSON("/reports/submissions");
  const totals = {};
  body.accepted.forEach((row) => {
    const key = row.township_code;
    totals[key] = totals[key] || { name: row.township_name || "—", count: 0 };
    totals[key].count += row.accepted;
  });
  const codes = Object.keys(totals).sort();
  const chart = echarts.init($("submissions-chart"));
  chart.setOption({
    tooltip: {}, xAxis: { type: "category", data: codes.map((c) => totals[c].name), axisLabel: { rotate: 30 } },
    yAxis: { type: "value", name: t("accepted") }, series: [{ type: "bar", data: codes.map((c) => totals[c].count), itemStyle: { color: "#9e1c1c" } }],
  });
  chart.on("click", (event) => showRecords({ township_code: codes[event.dataIndex] }, totals[codes[event.dataIndex]].name));
}

async function loadSexRatio() {
  const period = $("period").value;
  $("xlsx").href = `/reports/statistical.xlsx?period=${encodeURIComponent(period)}`;
  const body = await getJSON(`/reports/sex-ratio?period=${encodeURIComponent(period)}&by=township_code`);
  const chart = echarts.init($("sex-ratio-chart"));
  chart.setOption({
    tooltip: {}, xAxis: { type: "category", data: body.rows.map((r) => r.township_name), axisLabel: { rotate: 30 } },
    yAxis: { type: "value", name: t("ratio") },
    series: [{
      type: "bar", data: body.rows.map((r) => ({ value: r.ratio, itemStyle: { color: r.warning ? "#c62828" : "#5470c6" } })),
      markLine: { data: [{ yAxis: body.band.low, name: t("band") }, { yAxis: body.band.high, name: t("band") }], lineStyle: { type: "dashed" } },
    }],
  });
  chart.on("click", (event) => showRecords({ township_code: body.rows[event.dataIndex].township_code, kind: "police.birth.registered" }, body.rows[event.dataIndex].township_name));
  table($("sex-ratio-table"), [["township_name", t("township")], ["births", t("births")], ["boys", t("boys")], ["girls", t("girls")], ["ratio", t("ratio")],
    [(r) => (r.interval_95 ? `${r.interval_95[0]} – ${r.interval_95[1] ?? "∞"}` : ""), t("interval")], ["status_label", t("warning")]],
    body.rows, (row) => showRecords({ township_code: row.township_code, kind: "police.birth.registered" }, row.township_name));
}

async function loadLists() {
  const applications = await getJSON("/reports/applications");
  table($("applications-table"), [["application_id", "application_id"], ["application_kind", t("kind")], ["township_code", t("township")], ["section", t("section")], ["status", t("state")]],
    applications.rows, (row) => showHistory(row.application_id));
  const cases = await getJSON("/reports/cases").catch(refusedIn($("cases-table")));
  if (!cases) return;
  table($("cases-table"), [["case_number", "case"], ["category", t("kind")], ["township_code", t("township")], ["section", t("section")], ["status", t("state")]],
    cases.rows, (row) => showHistory(row.case_id));
}

function renderHistories(body) {
  const container = $("history");
  container.innerHTML = "";
  body.histories.forEach((history) => {
    const heading = document.createElement("h3");
    heading.textContent = `${t("history_of")}: ${history.service} · ${history.aggregate_id}` + (history.disclosure_id ? ` · disclosure ${history.disclosure_id}` : "");
    container.appendChild(heading);
    const events = document.createElement("table");
    table(events, [["version", t("version")], ["timestamp", t("time")], ["type", t("event")], [(e) => JSON.stringify(e.data), "data"]], history.events);
    container.appendChild(events);
    const state = document.createElement("pre");
    state.textContent = JSON.stringify(history.state, null, 2);
    container.appendChild(state);
  });
}

async function showHistory(ref) {
  if (ref) $("ref").value = ref;
  const asOf = $("as-of").value.trim();
  const query = asOf ? `?as_of=${encodeURIComponent(asOf)}` : "";
  try {
    renderHistories(await getJSON(`/audit/history/${encodeURIComponent($("ref").value.trim())}${query}`));
  } catch (error) {
    $("history").textContent = `${t("not_found")}: ${error.message}`;
  }
  location.hash = "#audit";
}

async function reveal() {
  const body = { reason: $("reason").value.trim() };  // the reader recorded is who is logged in
  try {
    const revealed = await getJSON(`/audit/history/${encodeURIComponent($("ref").value.trim())}/reveal`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    renderHistories({ histories: [revealed] });
  } catch (error) {
    $("history").textContent = error.message;
  }
}

async function main() {
  applyLanguage();
  $("period").value = String(new Date().getFullYear() - 1);
  $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; applyLanguage(); loadAll(); });
  $("period-go").addEventListener("click", loadSexRatio);
  $("history-go").addEventListener("click", () => showHistory());
  $("reveal-go").addEventListener("click", reveal);
  await loadAll();
  document.body.dataset.ready = "true";
}

async function loadAll() {
  await Promise.all([loadSubmissions(), loadSexRatio(), loadLists()]);
}

main();
