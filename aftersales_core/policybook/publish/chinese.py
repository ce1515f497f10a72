# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
"""The published policy in Simplified Chinese (zh-CN)."""

from __future__ import annotations

from types import MappingProxyType

from aftersales_core.policies.periods import Length
from aftersales_core.policies.service_levels import whole_days
from aftersales_core.policybook.publish.phrases import Phrases


def _length(length: Length) -> str:
    return f"{length.years}年" if length.years else f"{length.days}天"


def _hours(hours: int) -> str:
    days = whole_days(hours)  # as the engine counts a resolution target of days
    if days is not None:
        return f"{days}天"
    return f"{hours}小时"


def _join(items: list[str], word: str = "和") -> str:
    if len(items) <= 2:
        return word.join(items)
    return "、".join(items[:-1]) + word + items[-1]


def _join_or(items: list[str]) -> str:
    return _join(items, "或")


def _steps(items: list[str]) -> str:
    return "、".join(items)


def _ordinal(number: int) -> str:
    return f"第{number}次"


TEXT = MappingProxyType({
    "title": "{merchant} 售后服务政策",
    "intro": "本政策说明 {merchant} 如何处理退货、换货、维修、退款和投诉。"
             "本政策依据我们售后系统处理每一笔售后申请时实际执行的同一套规则生成，"
             "您在此看到的就是实际执行的规则。",
    "counting": "以天计算的期限按自然日计算，自相关事件（签收、海关放行或我们收到退回商品）发生的"
                "次日起算，至最后一日结束时届满，以您所在地的时区为准。",
    "returns": "退货与换货",
    "returns_intro": "您可以在签收后的以下期限内申请退货：",
    "col_market": "市场",
    "col_no_fault": "不想要了等非质量原因",
    "col_fault": "质量问题、损坏、错发或与描述不符",
    "after_delivery": "签收后{length}内",
    "no_returns": "非质量问题不接受退货",
    "eu_guarantee": "签收后{length}内（法定保证期）",
    "uk_reject": "签收后{length}内（短期拒收权；此后可要求维修或更换）",
    "cn_domestic": "中国（境内发货的订单）",
    "cn_cross_border": "中国跨境电商（保税仓发货或海外直邮）",
    "cn_cross_no_fault": "签收后{length}内，且不晚于海关放行后{customs}",
    "cn_cross_fault": "海关放行后{customs}内",
    "other_markets": "其他市场",
    "all_markets": "所有市场",
    "hours_zone": "{hours}（{zone}）",
    "eu_markets": "欧盟成员国",
    "reason_window": "{market}：因“{reason}”申请退货的，期限为签收后{length}",
    "outcomes": "除退款外，您也可以申请换货（更换尺码、颜色或型号，差价多退少补）；"
                "商品有质量问题的，还可以申请维修。",
    "ship_back": "请在提出退货申请后{length}内寄回商品，我们通知您无需寄回的除外。",
    "bonded": "跨境电商零售进口商品退货的，退回商品须在海关放行之日起{length}内运抵原保税区。"
              "按期运抵的，退还跨境电商综合税，并恢复您的个人年度交易限额；逾期运抵的，退款不含"
              "税款。",
    "conditions": "退货条件与不适用退货的商品",
    "excluded_intro": "以下商品除存在质量问题外，不予退货：",
    "excluded_sealed": "{label}（拆封后）",
    "excluded_not_everywhere": "{label}（法律赋予您退货权利的欧盟、英国和中国除外）",
    "accepted": "对于{labels}，虽然法律允许商家不予退货，我们仍接受退货。",
    "unclassified_returnable": "其他类别的商品适用上述一般退货规则。",
    "unclassified_review": "未列明类别的商品，由我们的客服人员审核后决定是否接受退货。",
    "cn_intact": "中国：无理由退货的商品应当完好，配件、赠品齐全。",
    "withdrawal_value": "欧盟和英国：您可以像在实体店一样查验商品；如超出必要查验的使用导致商品"
                        "贬值，我们可以扣除贬值部分。",
    "confirmed": "购买时经您确认不宜退货的商品，仅在存在质量问题时可以退货。",
    "refunds": "退款",
    "refunds_intro": "我们按原支付方式、以您支付时的币种退款，退款时限如下：",
    "col_refund_time": "退款时限",
    "refund_withdrawal": "自收到您的撤回通知之日起{length}内（在收到退回商品或您已寄出商品的"
                         "证明之前，我们可以暂缓退款）；质量问题商品：自收到退回商品之日起"
                         "{length}内",
    "refund_received": "自收到退回商品之日起{length}内",
    "refund_working": "自收到退回商品之日起{days}个工作日内",
    "components_intro": "退款金额包括：",
    "c_items": "退回商品的价款，扣除按金额比例分摊的订单优惠",
    "c_shipping": "您支付的标准配送费：在欧盟或英国撤回合同、商品存在质量问题或订单被取消时退还",
    "c_taxes": "关税和税款：随商品退回时一并退还",
    "c_restocking": "退回商品验收评级为{grades}的，扣除商品价款{rate}的重新上架费；依照欧盟、"
                    "英国或中国法律撤回或无理由退货的，以及商品存在质量问题的，一律不收取",
    "c_return_shipping": "由您承担退货运费且使用我们提供的退货面单的，扣除退货运费",
    "grade": "{grade}级",
    "c_goodwill": "加上我们承诺的补偿金额",
    "approval": "一笔退款与同一订单的其他退款合计超过 {limits} 的，须经主管审核；审核不会延长上述"
                "退款时限。",
    "shipping": "退货运费",
    "shipping_fault": "商品存在质量问题、损坏、错发、与描述不符或疑似假冒的，退货运费一律由我们"
                      "承担。其他原因退货的运费承担如下：",
    "col_payer": "退货运费承担方",
    "returnless": "由我们承担退货运费时，如退货运费超过商品价值的 {share}{floors}，我们直接退款，"
                  "无需您寄回商品。",
    "returnless_floors": "，或商品价值低于 {floors}",
    "complaints": "投诉",
    "channels_intro": "您可以通过以下渠道联系我们的客服：",
    "channels_none": "您可以通过下单渠道、电子邮件或电话向我们投诉。",
    "times_intro": "我们在以下时限内响应并处理投诉：",
    "col_priority": "优先级",
    "col_means": "适用情形",
    "col_first": "首次响应",
    "col_resolution": "处理完毕",
    "p1": "紧急（P1）",
    "p2": "较高（P2）",
    "p3": "一般（P3）",
    "means_p1": "{items}",
    "means_p2": "{items}；或您的{repeat}及以后的投诉",
    "means_p3": "其他投诉",
    "means_category": "关于{categories}的投诉",
    "means_channel": "通过{channels}提出的投诉",
    "support_line": "{channel}：{where}",
    "day_range": "{first}至{last}",
    "channel_faster": "通过{channels}提出的投诉，在{hours}内首次响应。",
    "clock_calendar": "上述时限按自然时间连续计算，节假日不停止。",
    "clock_business": "上述时限仅按我们的工作时间计算：",
    "col_hours": "工作时间",
    "col_days": "工作日",
    "col_holidays": "休息日",
    "usual_week": "该市场通常的工作日",
    "local_time": "当地时间",
    "public_holidays": "法定节假日",
    "closed_days": "；另有{days}",
    "no_holidays": "法定节假日照常工作",
    "pause": "在等待您补充信息期间，处理时限暂停计算，收到您的回复后继续计算。",
    "open_days": "；另有{days}",
    "working_days_note": "工作日不含周末、法定节假日以及上表所列的休息日。",
    "working_days_note_open": "工作日不含周末、法定节假日以及上表所列的休息日，但包括上表所列的"
                              "额外工作日。",
    "escalation": "投诉升级",
    "ladder": "如我们未能在上述时限内响应或处理，您的投诉将自动依次升级至：{ladder}。您也可以"
              "在投诉留言中要求升级，由我们的工作人员为您升级。",
    "escalated": "处理时限届满未能解决的，我们将在此后{hours}内处理完毕。",
    "authorities": "您也可以随时向消费者权益保护部门求助：在中国，可拨打12315热线或登录全国"
                   "12315平台；在欧盟，可联系欧洲消费者中心；在英国，可联系 Citizens Advice"
                   "（公民咨询局）；在巴西，可联系 Procon 或登录 consumidor.gov.br 平台。",
    "footer_source": "本政策依据 {merchant} 政策手册第{version}版（{hash}，{date}设定）生成，与我们"
                     "的售后系统处理您的申请时适用的设置完全一致。",
    "footer_builtin": "本政策依据系统内置的政策设置（{hash}）生成，与我们的售后系统处理您的申请时"
                      "适用的设置完全一致。",
    "footer_rights": "本政策不影响您依法享有的各项权利。",
})

MARKETS = MappingProxyType({
    "EU": "欧盟成员国", "GB": "英国", "CN": "中国", "US": "美国", "BR": "巴西", "JP": "日本",
    "KR": "韩国", "HK": "中国香港", "MO": "中国澳门", "TW": "中国台湾", "SG": "新加坡",
    "MY": "马来西亚", "TH": "泰国", "VN": "越南", "ID": "印度尼西亚", "PH": "菲律宾",
    "IN": "印度", "AE": "阿联酋", "SA": "沙特阿拉伯", "IL": "以色列", "TR": "土耳其",
    "AU": "澳大利亚", "NZ": "新西兰", "CA": "加拿大", "MX": "墨西哥", "AR": "阿根廷",
    "CL": "智利", "IE": "爱尔兰", "IS": "冰岛", "NO": "挪威", "CH": "瑞士", "RU": "俄罗斯",
    "ZA": "南非", "AT": "奥地利", "BE": "比利时", "BG": "保加利亚", "HR": "克罗地亚",
    "CY": "塞浦路斯", "CZ": "捷克", "DK": "丹麦", "EE": "爱沙尼亚", "FI": "芬兰", "FR": "法国",
    "DE": "德国", "GR": "希腊", "HU": "匈牙利", "IT": "意大利", "LV": "拉脱维亚",
    "LT": "立陶宛", "LU": "卢森堡", "MT": "马耳他", "NL": "荷兰", "PL": "波兰", "PT": "葡萄牙",
    "RO": "罗马尼亚", "SK": "斯洛伐克", "SI": "斯洛文尼亚", "ES": "西班牙", "SE": "瑞典",
})

CATEGORIES = MappingProxyType({
    "custom_made": "定制商品", "perishable": "鲜活易腐商品（生鲜食品、鲜花、活体植物）",
    "digital_download": "在线下载的数字化商品",
    "audio_video_software": "音像制品和计算机软件",
    "newspapers_periodicals": "报纸、期刊和杂志", "apparel": "服装", "shoes": "鞋靴",
    "bags_accessories": "箱包和配饰", "jewellery_watches": "珠宝首饰和钟表",
    "cosmetics": "化妆品、香水和个人护理用品", "health": "保健品和膳食补充剂",
    "baby": "母婴用品", "toys": "玩具和游戏", "sports_outdoors": "运动户外用品",
    "electronics": "消费电子产品", "computers": "电脑", "phones": "手机及配件",
    "home": "家居和厨房用品", "furniture": "家具", "appliances": "家用电器",
    "garden_tools": "园艺、五金和工具", "books": "图书", "stationery": "文具和办公用品",
    "food_drink": "包装食品和饮料（非易腐）", "pet_supplies": "宠物用品",
    "automotive": "汽车用品", "musical_instruments": "乐器",
    "gifts": "礼品、派对和节日用品", "art_collectibles": "艺术品、手工艺品和收藏品",
})

REASONS = MappingProxyType({
    "damaged": "商品损坏", "defective": "质量问题", "wrong_item": "错发商品",
    "not_as_described": "与描述不符", "counterfeit_suspected": "疑似假冒",
    "changed_mind": "不想要了", "no_longer_needed": "不再需要", "doesnt_fit": "尺码不合适",
    "better_price_found": "找到更低价格", "arrived_late": "到货太晚", "other": "其他原因",
})

COMPLAINT_CATEGORIES = MappingProxyType({
    "logistics_delay": "物流延误", "damaged": "商品损坏", "not_as_described": "商品与描述不符",
    "counterfeit_suspected": "疑似假冒商品", "customs": "海关清关", "refund_delay": "退款延迟",
    "service": "服务态度", "other": "其他问题",
})

CHANNELS = MappingProxyType({
    "chat": "在线客服", "phone": "电话", "email": "电子邮件", "platform": "电商平台",
    "social": "社交媒体", "regulator": "监管部门",
})

WEEKDAYS = MappingProxyType({"mon": "周一", "tue": "周二", "wed": "周三", "thu": "周四",
                             "fri": "周五", "sat": "周六", "sun": "周日"})

LEVELS = MappingProxyType({"supervisor": "客服主管", "platform_arbitration": "电商平台仲裁",
                           "regulator": "监管部门"})

PAYERS = MappingProxyType({
    "buyer": "您", "merchant": "我们",
    "buyer_if_informed": "下单前已告知由您承担的，由您承担；否则由我们承担",
})

CHINESE = Phrases(lang="zh-CN", text=TEXT, markets=MARKETS, categories=CATEGORIES,
                  reasons=REASONS, complaint_categories=COMPLAINT_CATEGORIES, channels=CHANNELS,
                  weekdays=WEEKDAYS, levels=LEVELS, payers=PAYERS, length=_length, hours=_hours,
                  join=_join, join_or=_join_or, steps=_steps, ordinal=_ordinal)
