"""The Chinese names of the product categories: aliases of vocabulary 2
(``categories.py``), in Simplified Chinese and, where it is written differently, Traditional.

The first name of each category is its name in the published policy in Simplified Chinese
(``policybook/publish/chinese.py``; a test keeps the two alike), written with ASCII brackets:
names are matched after folding (NFKC makes full-width brackets plain ones, and any run of
punctuation is one ``_``), so ``报纸、期刊和杂志`` and ``报纸,期刊和杂志`` are one name. A name
that would mean two categories is refused at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CHINESE_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    # excluded from China's 7-day no-reason return (and the EU/UK withdrawal)
    "custom_made": ("定制商品", "定制", "定做", "订制", "订做", "定制品", "个性化定制",
                    "私人定制", "定製商品", "定製", "訂製", "訂做", "定製品", "個性化定製"),
    "perishable": ("鲜活易腐商品(生鲜食品、鲜花、活体植物)", "鲜活易腐商品", "鲜活易腐",
                   "易腐商品", "易腐食品", "生鲜", "生鲜食品", "生鲜水果", "新鲜水果", "水果",
                   "蔬菜", "海鲜", "水产", "鲜花", "鲜切花", "花卉", "绿植", "活体植物",
                   "鮮活易腐商品", "鮮活易腐", "生鮮", "生鮮食品", "新鮮水果",
                   "海鮮", "水產", "鮮花", "鮮切花", "綠植", "活體植物"),
    "digital_download": ("在线下载的数字化商品", "数字化商品", "数字商品", "数字内容",
                         "数字下载", "在线下载", "虚拟商品", "电子书", "软件下载",
                         "線上下載的數位商品", "數位商品", "數字商品", "數位內容", "數字內容",
                         "數位下載", "線上下載", "虛擬商品", "電子書", "軟體下載"),
    "audio_video_software": ("音像制品和计算机软件", "音像制品", "音像", "影音制品",
                             "计算机软件", "软件", "光盘", "唱片", "影碟", "电子游戏",
                             "音像製品", "影音製品", "電腦軟體", "計算機軟件", "軟體", "軟件",
                             "光碟", "電子遊戲"),
    "newspapers_periodicals": ("报纸、期刊和杂志", "报纸", "报刊", "报刊杂志", "期刊",
                               "杂志", "报纸杂志", "报纸期刊", "報紙、期刊和雜誌", "報紙",
                               "報刊", "報刊雜誌", "雜誌", "雜志", "報紙雜誌"),
    # the standard rules of the market
    "apparel": ("服装", "服饰", "衣服", "女装", "男装", "童装", "服裝", "服飾", "女裝", "男裝",
                "童裝"),
    "shoes": ("鞋靴", "鞋", "鞋子", "鞋类", "鞋類"),
    "bags_accessories": ("箱包和配饰", "箱包", "箱包配饰", "配饰", "箱包皮具", "箱包和配飾",
                         "箱包配飾", "配飾"),
    "jewellery_watches": ("珠宝首饰和钟表", "珠宝首饰", "珠宝", "首饰", "钟表", "手表",
                          "珠寶首飾和鐘錶", "珠寶首飾", "珠寶", "首飾", "鐘錶", "鐘表", "手錶"),
    "cosmetics": ("化妆品、香水和个人护理用品", "化妆品", "美妆", "彩妆", "护肤品", "美容护肤",
                  "香水", "个人护理", "个护", "化妝品、香水和個人護理用品", "化妝品", "美妝",
                  "彩妝", "護膚品", "美容護膚", "個人護理", "個護"),
    "health": ("保健品和膳食补充剂", "保健品", "膳食补充剂", "营养保健", "保健食品",
               "保健品和膳食補充劑", "膳食補充劑", "營養保健"),
    "baby": ("母婴用品", "母婴", "婴儿用品", "婴童用品", "母嬰用品", "母嬰", "嬰兒用品",
             "嬰童用品"),
    "toys": ("玩具和游戏", "玩具", "玩具游戏", "玩具和遊戲", "玩具遊戲"),
    "sports_outdoors": ("运动户外用品", "运动户外", "运动用品", "户外用品", "体育用品",
                        "運動戶外用品", "運動戶外", "運動用品", "戶外用品", "體育用品"),
    "electronics": ("消费电子产品", "消费电子", "电子产品", "数码", "数码产品",
                    "消費電子產品", "消費電子", "電子產品", "數碼", "數碼產品", "數位產品"),
    "computers": ("电脑", "计算机", "电脑办公", "电脑及配件", "電腦", "電腦及配件"),
    "phones": ("手机及配件", "手机", "手机通讯", "手機及配件", "手機", "手機通訊"),
    "home": ("家居和厨房用品", "家居", "家居用品", "厨房用品", "家纺", "家居日用",
             "家居和廚房用品", "廚房用品", "家紡"),
    "furniture": ("家具", "傢俱", "傢具"),
    "appliances": ("家用电器", "家电", "小家电", "大家电", "家用電器", "家電", "小家電",
                   "大家電"),
    "garden_tools": ("园艺、五金和工具", "园艺", "五金", "五金工具", "园艺工具", "工具",
                     "園藝、五金和工具", "園藝", "園藝工具"),
    "books": ("图书", "书籍", "纸质书", "圖書", "書籍", "紙質書"),
    "stationery": ("文具和办公用品", "文具", "办公用品", "文具和辦公用品", "辦公用品"),
    "food_drink": ("包装食品和饮料(非易腐)", "包装食品", "食品", "饮料", "食品饮料", "零食",
                   "休闲食品", "酒水饮料", "包裝食品和飲料(非易腐)", "包裝食品", "飲料",
                   "食品飲料", "休閒食品", "酒水飲料"),
    "pet_supplies": ("宠物用品", "宠物", "寵物用品", "寵物"),
    "automotive": ("汽车用品", "汽车配件", "汽配", "汽車用品", "汽車配件"),
    "musical_instruments": ("乐器", "樂器"),
    "gifts": ("礼品、派对和节日用品", "礼品", "节日用品", "派对用品", "禮品、派對和節日用品",
              "禮品", "節日用品", "派對用品"),
    "art_collectibles": ("艺术品、手工艺品和收藏品", "艺术品", "手工艺品", "工艺品", "收藏品",
                         "藝術品、手工藝品和收藏品", "藝術品", "手工藝品", "工藝品"),
})
