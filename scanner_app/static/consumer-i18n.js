// Words of the consumer page, zh-CN first; times shown in Asia/Shanghai.
const EVENTS = {
  zh: { commissioned: "赋码", packed: "装箱", shipped: "发货", received: "收货", sold: "售出",
        returned: "退回", replaced: "换码", voided: "作废", stored: "入库" },
  en: {},
};

export const eventName = (event, lang) => (lang === "zh" ? EVENTS.zh[event] : null) || event;

export function fmtTime(iso, lang) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return when.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB",
    { timeZone: "Asia/Shanghai", dateStyle: "medium", timeStyle: "short" });
}

export const STRINGS = {
  zh: {
    title: "扫码溯源", other: "English", noLookup: "扫描瓶身二维码，或输入瓶身链接，即可查验。",
    problem: { invalid_digital_link: "✘ 这不是有效的瓶身码链接",
               unknown_code: "✘ 未找到此编码：不是本品牌的产品", other: "✘ 无法识别此编码" },
    verdict: { genuine: "✔ 正品", suspicious: "⚠ 可疑", unknown: "✘ 非本品牌编码",
               noSerial: "✘ 非单瓶编码，无法验证" },
    badge: { checking: "正在本机验证证明…", verified: "✔ 已在您的浏览器中验证",
             failed: "✘ 验证失败", none: "暂无可验证的证明",
             unavailable: "暂时无法核对证明（网络问题），请稍后刷新重试" },
    checkedN: (n, p) => `${n} 条账本记录的包含证明与签名检查点均已核对` + (p ? `，${p} 条待上链` : ""),
    keyChanged: "检查点公钥与本机固定的公钥不一致",
    f: { gtin: "商品码", aroma: "香型", abv: "酒精度", volume: "容量", serial: "序列号", lot: "批次",
         line: "灌装线", bottled: "灌装日期", batchStatus: "批次状态", blendNo: "勾调单号",
         blender: "勾调师", blended: "勾调日期", scanCount: "扫码次数", firstScan: "首次扫码",
         treeSize: "检查点树大小", entries: "账本记录", anchor: "公链锚定" },
    blend: "勾调与基酒", baseLiquors: "基酒", baseCols: ["基酒批次", "年份", "酒厂", "占比"],
    storage: "仓储条件", journey: "流通历程", scans: "扫码记录", proofs: "证明",
    chartLabel: "各仓储环节温度范围（°C）", metric: { temperature: "温度", humidity: "湿度" },
    dir: { above: "高于", below: "低于" }, peak: "峰值", mean: "平均",
    excursionsN: (n) => `${n} 次超限`, storageTable: "各仓储环节的温湿度（传感器读数）",
    storageCols: ["环节", "读数", "最低 °C", "最高 °C", "平均 °C", "湿度 %RH", "超限"],
    batchStates: { active: "正常", recalled: "已召回" },
    chain: "链", block: "区块", noAnchor: "尚未锚定", tx: "锚定交易",
    scanAnother: "扫描另一瓶", openCamera: "打开相机扫码", manual: "或输入瓶身链接：", go: "查询",
    badCode: "这不是酒源的瓶身码链接。", cameraStarting: "正在打开相机…", found: "已识别，正在跳转…",
    cameraFailed: "无法使用相机，请手动输入",
  },
  en: {
    title: "Scan trace", other: "中文", noLookup: "Scan a bottle's QR code, or type its link, to check it.",
    problem: { invalid_digital_link: "✘ This is not a valid bottle-code link",
               unknown_code: "✘ Code not found: not a product of this brand",
               other: "✘ This code cannot be read" },
    verdict: { genuine: "✔ Genuine", suspicious: "⚠ Suspicious", unknown: "✘ Not our code",
               noSerial: "✘ Not a bottle code: nothing to vouch for" },
    badge: { checking: "Checking the proofs in your browser…", verified: "✔ Verified in your browser",
             failed: "✘ Verification failed", none: "No proofs to check yet",
             unavailable: "Couldn't check the proofs right now (network); reload to try again" },
    checkedN: (n, p) => `${n} ledger entries checked against the signed checkpoint` +
      (p ? `; ${p} pending` : ""),
    keyChanged: "the checkpoint key differs from the key pinned in this browser",
    f: { gtin: "GTIN", aroma: "Aroma", abv: "ABV", volume: "Volume", serial: "Serial", lot: "Lot",
         line: "Line", bottled: "Bottled on", batchStatus: "Batch status", blendNo: "Blend",
         blender: "Blender", blended: "Blended on", scanCount: "Scans", firstScan: "First scan",
         treeSize: "Checkpoint tree size", entries: "Ledger entries", anchor: "Public-chain anchor" },
    blend: "Blend and base liquors", baseLiquors: "Base liquors",
    baseCols: ["Base lot", "Vintage", "Distillery", "Share"],
    storage: "Storage conditions", journey: "Journey", scans: "Scans", proofs: "Proofs",
    chartLabel: "Temperature range per storage leg (°C)",
    metric: { temperature: "temperature", humidity: "humidity" },
    dir: { above: "above", below: "below" }, peak: "peak", mean: "mean",
    excursionsN: (n) => `${n} excursion${n === 1 ? "" : "s"}`,
    storageTable: "Temperature and humidity per storage leg (sensor readings)",
    storageCols: ["Leg", "Readings", "Min °C", "Max °C", "Mean °C", "RH %", "Excursions"],
    batchStates: { active: "active", recalled: "recalled" },
    chain: "chain", block: "block", noAnchor: "not anchored yet", tx: "Anchor transaction",
    scanAnother: "Scan another bottle", openCamera: "Open the camera", manual: "or enter the bottle link:",
    go: "Look up", badCode: "That is not a Jiuyuan bottle link.", cameraStarting: "Opening the camera…",
    found: "Found, opening…", cameraFailed: "The camera is unavailable; enter the link instead",
  },
};
