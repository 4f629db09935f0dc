//! Deterministic demo data for Heshun County (和顺县, Shanxi), the first tenant of
//! the Smart NPC (智慧人大) platform.
//!
//! Pure data: no I/O, no dependencies beyond `std`. The seeding code turns these
//! tables into rows; nothing here is random, so every seeded database is the same.
//!
//! Figures taken from the standing committee's report of 25 Dec 2025
//! (`docs/source-report.zh.txt`):
//!
//! - 71 stations: 9 brand liaison stations (义兴 "三站合一", 平松 "代表直播",
//!   社区 "幸福驿站", ...), 25 deputy service points (阳光占乡, 尧村, ...) and 37 deputy
//!   service posts ("民情小院", "交运民生", ...), plus the 百备村人大主题广场
//!   demonstration base built with the help of the municipal people's congress
//!   working team, so [`STATIONS`] has 72 rows;
//! - 滨河社区 divided into 8 grids ([`BINHE_GRIDS`]);
//! - the two themed campaigns "百名代表入千户" and "双岗建新功" ([`CAMPAIGNS`]);
//! - the kinds of problems citizens raised (rural roads, jobs for the disabled,
//!   neighbour and property disputes, hazards in 滨河社区), used by
//!   [`PETITION_TEMPLATES`].
//!
//! Village names, addresses, brands other than the three named in the report, and
//! the township chosen for 尧村 and 百备村 are illustrative, not authoritative.
//! The invariants the report fixes (counts per station kind, unique codes) are
//! checked at compile time at the bottom of this file.

// ---------------------------------------------------------------------------
// Townships (乡镇/城区)
// ---------------------------------------------------------------------------

/// A township, town or the urban district.
pub struct TownshipSeed {
    /// ASCII pinyin slug, unique.
    pub code: &'static str,
    pub name: &'static str,
    /// `"town"` (镇), `"township"` (乡) or `"district"` (城区).
    pub kind: &'static str,
    /// Where its stations gather, WGS-84 `(latitude, longitude)`: illustrative
    /// positions inside Heshun county (seat ≈ 37.33 N, 113.57 E), not surveyed ones.
    pub centre: (f64, f64),
}

/// Heshun County's 5 towns, 5 townships and its urban district.
pub const TOWNSHIPS: &[TownshipSeed] = &[
    TownshipSeed {
        code: "yixing",
        name: "义兴镇",
        kind: "town",
        centre: (37.3290, 113.5700),
    },
    TownshipSeed {
        code: "liyang",
        name: "李阳镇",
        kind: "town",
        centre: (37.4230, 113.4520),
    },
    TownshipSeed {
        code: "songyan",
        name: "松烟镇",
        kind: "town",
        centre: (37.2700, 113.7300),
    },
    TownshipSeed {
        code: "qingcheng",
        name: "青城镇",
        kind: "town",
        centre: (37.2150, 113.4700),
    },
    TownshipSeed {
        code: "hengling",
        name: "横岭镇",
        kind: "town",
        centre: (37.4400, 113.7000),
    },
    TownshipSeed {
        code: "yangguangzhan",
        name: "阳光占乡",
        kind: "township",
        centre: (37.3550, 113.3900),
    },
    TownshipSeed {
        code: "pingsong",
        name: "平松乡",
        kind: "township",
        centre: (37.1950, 113.6300),
    },
    TownshipSeed {
        code: "weima",
        name: "喂马乡",
        kind: "township",
        centre: (37.3900, 113.7900),
    },
    TownshipSeed {
        code: "mafang",
        name: "马坊乡",
        kind: "township",
        centre: (37.1500, 113.5500),
    },
    TownshipSeed {
        code: "niuchuan",
        name: "牛川乡",
        kind: "township",
        centre: (37.4900, 113.5800),
    },
    TownshipSeed {
        code: "chengqu",
        name: "城区",
        kind: "district",
        centre: (37.3370, 113.5640),
    },
];

// ---------------------------------------------------------------------------
// Stations (站点)
// ---------------------------------------------------------------------------

/// A liaison station, service point, service post or demonstration base.
pub struct StationSeed {
    /// ASCII slug, unique.
    pub code: &'static str,
    pub name: &'static str,
    /// `"liaison_station"`, `"service_point"`, `"service_post"` or
    /// `"demonstration_base"`.
    pub kind: &'static str,
    /// Township code (see [`TOWNSHIPS`]).
    pub township: &'static str,
    /// Brand ("一站一品牌"); only brand liaison stations have one.
    pub brand_name: Option<&'static str>,
    /// One-sentence description; brand liaison stations and the base only.
    pub feature: Option<&'static str>,
    pub address: &'static str,
}

/// 9 brand liaison stations, 25 service points, 37 service posts and
/// 1 demonstration base (72 rows).
pub const STATIONS: &[StationSeed] = &[
    // --- 9 brand liaison stations (品牌联络站) --------------------------------
    StationSeed {
        code: "yixing_sanzhan",
        name: "义兴镇人大代表联络站",
        kind: "liaison_station",
        township: "yixing",
        brand_name: Some("三站合一"),
        feature: Some("将人大代表联络站、政协委员工作站和新时代文明实践站三站合一，实现阵地共建、资源共享、民意共商。"),
        address: "义兴镇人民政府便民服务中心二楼",
    },
    StationSeed {
        code: "pingsong_zhibo",
        name: "平松乡人大代表联络站",
        kind: "liaison_station",
        township: "pingsong",
        brand_name: Some("代表直播"),
        feature: Some("人大代表走进直播间推介小杂粮等特色农产品，并在直播中在线收集群众诉求，打造“云上”履职新阵地。"),
        address: "平松乡平松村党群服务中心",
    },
    StationSeed {
        code: "binhe",
        name: "滨河社区人大代表联络站",
        kind: "liaison_station",
        township: "chengqu",
        brand_name: Some("幸福驿站"),
        feature: Some("将社区划分为8个网格，驻站代表与网格员、社区民警、物业人员组成“融合共治小组”，就近化解邻里纠纷和物业矛盾。"),
        address: "城区滨河社区党群服务中心一楼",
    },
    StationSeed {
        code: "liyang_chanye",
        name: "李阳镇人大代表联络站",
        kind: "liaison_station",
        township: "liyang",
        brand_name: Some("产业兴村"),
        feature: Some("围绕设施蔬菜和肉牛养殖等特色产业，组织代表开展产业调研和技术帮扶，助推村集体经济和群众增收。"),
        address: "李阳镇李阳村便民服务中心",
    },
    StationSeed {
        code: "songyan_queqiao",
        name: "松烟镇人大代表联络站",
        kind: "liaison_station",
        township: "songyan",
        brand_name: Some("鹊桥连心"),
        feature: Some("依托牛郎织女文化资源，组织代表围绕文旅融合发展建言献策，架起党群干群之间的“连心鹊桥”。"),
        address: "松烟镇松烟村党群服务中心",
    },
    StationSeed {
        code: "qingcheng_shengtai",
        name: "青城镇人大代表联络站",
        kind: "liaison_station",
        township: "qingcheng",
        brand_name: Some("生态卫士"),
        feature: Some("聚焦清漳河流域保护和森林防火，组织代表常态化开展巡河护林和生态环境监督。"),
        address: "青城镇青城村党群服务中心",
    },
    StationSeed {
        code: "hengling_tiaojie",
        name: "横岭镇人大代表联络站",
        kind: "liaison_station",
        township: "hengling",
        brand_name: Some("和事佬调解室"),
        feature: Some("由人大代表牵头组建调解队伍，就地化解土地流转、邻里矛盾等纠纷，做到小事不出村、大事不出镇。"),
        address: "横岭镇横岭村综治中心",
    },
    StationSeed {
        code: "mafang_yishi",
        name: "马坊乡人大代表联络站",
        kind: "liaison_station",
        township: "mafang",
        brand_name: Some("民生议事厅"),
        feature: Some("定期召开民生议事会，邀请群众与乡政府及相关部门面对面协商解决饮水、道路等民生实事。"),
        address: "马坊乡人民政府院内",
    },
    StationSeed {
        code: "niuchuan_qiangmu",
        name: "牛川乡人大代表联络站",
        kind: "liaison_station",
        township: "niuchuan",
        brand_name: Some("强牧富民"),
        feature: Some("围绕肉牛养殖特色畜牧产业，代表联系养殖户开展政策宣讲和技术对接，带动群众增收致富。"),
        address: "牛川乡牛川村党群服务中心",
    },
    // --- 25 deputy service points (代表服务点) --------------------------------
    // 义兴镇 (3)
    StationSeed {
        code: "dongguan_point",
        name: "东关村代表服务点",
        kind: "service_point",
        township: "yixing",
        brand_name: None,
        feature: None,
        address: "义兴镇东关村村民委员会",
    },
    StationSeed {
        code: "yunshan_point",
        name: "云山村代表服务点",
        kind: "service_point",
        township: "yixing",
        brand_name: None,
        feature: None,
        address: "义兴镇云山村村民委员会",
    },
    StationSeed {
        code: "wenyuan_point",
        name: "温源村代表服务点",
        kind: "service_point",
        township: "yixing",
        brand_name: None,
        feature: None,
        address: "义兴镇温源村村民委员会",
    },
    // 李阳镇 (3)
    StationSeed {
        code: "wangbian_point",
        name: "王汴村代表服务点",
        kind: "service_point",
        township: "liyang",
        brand_name: None,
        feature: None,
        address: "李阳镇王汴村村民委员会",
    },
    StationSeed {
        code: "guaizi_point",
        name: "拐子村代表服务点",
        kind: "service_point",
        township: "liyang",
        brand_name: None,
        feature: None,
        address: "李阳镇拐子村村民委员会",
    },
    StationSeed {
        code: "dayaodi_point",
        name: "大窑底村代表服务点",
        kind: "service_point",
        township: "liyang",
        brand_name: None,
        feature: None,
        address: "李阳镇大窑底村村民委员会",
    },
    // 松烟镇 (2)
    StationSeed {
        code: "xucun_point",
        name: "许村代表服务点",
        kind: "service_point",
        township: "songyan",
        brand_name: None,
        feature: None,
        address: "松烟镇许村村民委员会",
    },
    StationSeed {
        code: "nantianchi_point",
        name: "南天池村代表服务点",
        kind: "service_point",
        township: "songyan",
        brand_name: None,
        feature: None,
        address: "松烟镇南天池村村民委员会",
    },
    // 青城镇 (2)
    StationSeed {
        code: "yaocun_point",
        name: "尧村代表服务点",
        kind: "service_point",
        township: "qingcheng",
        brand_name: None,
        feature: None,
        address: "青城镇尧村村民委员会",
    },
    StationSeed {
        code: "longwang_point",
        name: "龙旺村代表服务点",
        kind: "service_point",
        township: "qingcheng",
        brand_name: None,
        feature: None,
        address: "青城镇龙旺村村民委员会",
    },
    // 横岭镇 (2)
    StationSeed {
        code: "kouze_point",
        name: "口则村代表服务点",
        kind: "service_point",
        township: "hengling",
        brand_name: None,
        feature: None,
        address: "横岭镇口则村村民委员会",
    },
    StationSeed {
        code: "yicun_point",
        name: "仪村代表服务点",
        kind: "service_point",
        township: "hengling",
        brand_name: None,
        feature: None,
        address: "横岭镇仪村村民委员会",
    },
    // 阳光占乡 (3)
    StationSeed {
        code: "yangguangzhan_point",
        name: "阳光占乡代表服务点",
        kind: "service_point",
        township: "yangguangzhan",
        brand_name: None,
        feature: None,
        address: "阳光占乡人民政府便民服务中心",
    },
    StationSeed {
        code: "shidie_point",
        name: "石叠村代表服务点",
        kind: "service_point",
        township: "yangguangzhan",
        brand_name: None,
        feature: None,
        address: "阳光占乡石叠村村民委员会",
    },
    StationSeed {
        code: "quli_point",
        name: "曲里村代表服务点",
        kind: "service_point",
        township: "yangguangzhan",
        brand_name: None,
        feature: None,
        address: "阳光占乡曲里村村民委员会",
    },
    // 平松乡 (2)
    StationSeed {
        code: "duidui_point",
        name: "独堆村代表服务点",
        kind: "service_point",
        township: "pingsong",
        brand_name: None,
        feature: None,
        address: "平松乡独堆村村民委员会",
    },
    StationSeed {
        code: "guangwu_point",
        name: "广务村代表服务点",
        kind: "service_point",
        township: "pingsong",
        brand_name: None,
        feature: None,
        address: "平松乡广务村村民委员会",
    },
    // 喂马乡 (2)
    StationSeed {
        code: "heshan_point",
        name: "合山村代表服务点",
        kind: "service_point",
        township: "weima",
        brand_name: None,
        feature: None,
        address: "喂马乡合山村村民委员会",
    },
    StationSeed {
        code: "wangjiazhuang_point",
        name: "王家庄村代表服务点",
        kind: "service_point",
        township: "weima",
        brand_name: None,
        feature: None,
        address: "喂马乡王家庄村村民委员会",
    },
    // 马坊乡 (2)
    StationSeed {
        code: "mafang_point",
        name: "马坊村代表服务点",
        kind: "service_point",
        township: "mafang",
        brand_name: None,
        feature: None,
        address: "马坊乡马坊村村民委员会",
    },
    StationSeed {
        code: "yaoyu_point",
        name: "要峪村代表服务点",
        kind: "service_point",
        township: "mafang",
        brand_name: None,
        feature: None,
        address: "马坊乡要峪村村民委员会",
    },
    // 牛川乡 (2)
    StationSeed {
        code: "sigou_point",
        name: "寺沟村代表服务点",
        kind: "service_point",
        township: "niuchuan",
        brand_name: None,
        feature: None,
        address: "牛川乡寺沟村村民委员会",
    },
    StationSeed {
        code: "xiaoniuchuan_point",
        name: "小牛川村代表服务点",
        kind: "service_point",
        township: "niuchuan",
        brand_name: None,
        feature: None,
        address: "牛川乡小牛川村村民委员会",
    },
    // 城区 (2)
    StationSeed {
        code: "wenhualu_point",
        name: "文化路社区代表服务点",
        kind: "service_point",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区文化路社区居民委员会",
    },
    StationSeed {
        code: "xinjianjie_point",
        name: "新建街社区代表服务点",
        kind: "service_point",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区新建街社区居民委员会",
    },
    // --- 37 deputy service posts (代表服务岗) ---------------------------------
    // 城区 (6)
    StationSeed {
        code: "jiaoyun_minsheng",
        name: "“交运民生”代表服务岗",
        kind: "service_post",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区和顺县交通运输局便民服务大厅",
    },
    StationSeed {
        code: "yibao_bianmin",
        name: "“医保便民”代表服务岗",
        kind: "service_post",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区和顺县医疗保障服务中心",
    },
    StationSeed {
        code: "fayun_minxin",
        name: "“法润民心”代表服务岗",
        kind: "service_post",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区和顺县公共法律服务中心",
    },
    StationSeed {
        code: "zhucan_jiuye",
        name: "“助残就业”代表服务岗",
        kind: "service_post",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区和顺县残疾人综合服务中心",
    },
    StationSeed {
        code: "wuye_xietiao",
        name: "“物业连心”代表服务岗",
        kind: "service_post",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区滨河社区物业服务中心",
    },
    StationSeed {
        code: "wengang_jiuye",
        name: "“稳岗就业”代表服务岗",
        kind: "service_post",
        township: "chengqu",
        brand_name: None,
        feature: None,
        address: "城区和顺县人力资源市场",
    },
    // 义兴镇 (4)
    StationSeed {
        code: "minqing_xiaoyuan",
        name: "“民情小院”代表服务岗",
        kind: "service_post",
        township: "yixing",
        brand_name: None,
        feature: None,
        address: "义兴镇南关村民情小院",
    },
    StationSeed {
        code: "xiaoyuan_anquan",
        name: "“校园安全”代表服务岗",
        kind: "service_post",
        township: "yixing",
        brand_name: None,
        feature: None,
        address: "义兴镇城关小学门口护学岗",
    },
    StationSeed {
        code: "jinrong_huinong",
        name: "“金融惠农”代表服务岗",
        kind: "service_post",
        township: "yixing",
        brand_name: None,
        feature: None,
        address: "义兴镇农商银行营业网点",
    },
    StationSeed {
        code: "fangxin_xiaofei",
        name: "“放心消费”代表服务岗",
        kind: "service_post",
        township: "yixing",
        brand_name: None,
        feature: None,
        address: "义兴镇农贸市场管理办公室",
    },
    // 李阳镇 (4)
    StationSeed {
        code: "tianjian_ketang",
        name: "“田间课堂”代表服务岗",
        kind: "service_post",
        township: "liyang",
        brand_name: None,
        feature: None,
        address: "李阳镇设施蔬菜示范园",
    },
    StationSeed {
        code: "dianshang_zhunong",
        name: "“电商助农”代表服务岗",
        kind: "service_post",
        township: "liyang",
        brand_name: None,
        feature: None,
        address: "李阳镇农村电商服务站",
    },
    StationSeed {
        code: "laobing_zhijia",
        name: "“老兵之家”代表服务岗",
        kind: "service_post",
        township: "liyang",
        brand_name: None,
        feature: None,
        address: "李阳镇退役军人服务站",
    },
    StationSeed {
        code: "anquan_shengchan",
        name: "“安全生产”代表服务岗",
        kind: "service_post",
        township: "liyang",
        brand_name: None,
        feature: None,
        address: "李阳镇工业园区管理服务中心",
    },
    // 松烟镇 (3)
    StationSeed {
        code: "wenlv_ronghe",
        name: "“文旅融合”代表服务岗",
        kind: "service_post",
        township: "songyan",
        brand_name: None,
        feature: None,
        address: "松烟镇许村牛郎织女景区游客中心",
    },
    StationSeed {
        code: "xiangcun_minsu",
        name: "“乡村民宿”代表服务岗",
        kind: "service_post",
        township: "songyan",
        brand_name: None,
        feature: None,
        address: "松烟镇南天池村民宿服务点",
    },
    StationSeed {
        code: "jinguo_jiangong",
        name: "“巾帼建功”代表服务岗",
        kind: "service_post",
        township: "songyan",
        brand_name: None,
        feature: None,
        address: "松烟镇妇女之家",
    },
    // 青城镇 (3)
    StationSeed {
        code: "xunhe_hulin",
        name: "“巡河护林”代表服务岗",
        kind: "service_post",
        township: "qingcheng",
        brand_name: None,
        feature: None,
        address: "青城镇清漳河巡河管护站",
    },
    StationSeed {
        code: "jiankang_shouhu",
        name: "“健康守护”代表服务岗",
        kind: "service_post",
        township: "qingcheng",
        brand_name: None,
        feature: None,
        address: "青城镇卫生院",
    },
    StationSeed {
        code: "yinfa_guanai",
        name: "“银发关爱”代表服务岗",
        kind: "service_post",
        township: "qingcheng",
        brand_name: None,
        feature: None,
        address: "青城镇老年人日间照料中心",
    },
    // 横岭镇 (3)
    StationSeed {
        code: "pingan_shouhu",
        name: "“平安守护”代表服务岗",
        kind: "service_post",
        township: "hengling",
        brand_name: None,
        feature: None,
        address: "横岭镇派出所警务服务室",
    },
    StationSeed {
        code: "nongji_fuwu",
        name: "“农机服务”代表服务岗",
        kind: "service_post",
        township: "hengling",
        brand_name: None,
        feature: None,
        address: "横岭镇农机专业合作社",
    },
    StationSeed {
        code: "zhongyaocai",
        name: "“中药材产业”代表服务岗",
        kind: "service_post",
        township: "hengling",
        brand_name: None,
        feature: None,
        address: "横岭镇中药材种植基地",
    },
    // 阳光占乡 (3)
    StationSeed {
        code: "yinshui_anquan",
        name: "“饮水安全”代表服务岗",
        kind: "service_post",
        township: "yangguangzhan",
        brand_name: None,
        feature: None,
        address: "阳光占乡集中供水站",
    },
    StationSeed {
        code: "liushou_guanai",
        name: "“留守关爱”代表服务岗",
        kind: "service_post",
        township: "yangguangzhan",
        brand_name: None,
        feature: None,
        address: "阳光占乡儿童之家",
    },
    StationSeed {
        code: "zaliang_chanye",
        name: "“杂粮产业”代表服务岗",
        kind: "service_post",
        township: "yangguangzhan",
        brand_name: None,
        feature: None,
        address: "阳光占乡小杂粮加工厂",
    },
    // 平松乡 (3)
    StationSeed {
        code: "xiangcun_zhenxing",
        name: "“乡村振兴”代表服务岗",
        kind: "service_post",
        township: "pingsong",
        brand_name: None,
        feature: None,
        address: "平松乡乡村振兴服务站",
    },
    StationSeed {
        code: "xiangcun_yiliao",
        name: "“乡村医疗”代表服务岗",
        kind: "service_post",
        township: "pingsong",
        brand_name: None,
        feature: None,
        address: "平松乡卫生院",
    },
    StationSeed {
        code: "hulin_fanghuo",
        name: "“护林防火”代表服务岗",
        kind: "service_post",
        township: "pingsong",
        brand_name: None,
        feature: None,
        address: "平松乡林业工作站",
    },
    // 喂马乡 (3)
    StationSeed {
        code: "xiangfeng_wenming",
        name: "“乡风文明”代表服务岗",
        kind: "service_post",
        township: "weima",
        brand_name: None,
        feature: None,
        address: "喂马乡新时代文明实践所",
    },
    StationSeed {
        code: "yangzhi_jishu",
        name: "“养殖技术”代表服务岗",
        kind: "service_post",
        township: "weima",
        brand_name: None,
        feature: None,
        address: "喂马乡肉牛养殖小区",
    },
    StationSeed {
        code: "shuili_sheshi",
        name: "“水利设施”代表服务岗",
        kind: "service_post",
        township: "weima",
        brand_name: None,
        feature: None,
        address: "喂马乡水利工作站",
    },
    // 马坊乡 (3)
    StationSeed {
        code: "daolu_anquan",
        name: "“道路安全”代表服务岗",
        kind: "service_post",
        township: "mafang",
        brand_name: None,
        feature: None,
        address: "马坊乡交通安全劝导站",
    },
    StationSeed {
        code: "jineng_peixun",
        name: "“技能培训”代表服务岗",
        kind: "service_post",
        township: "mafang",
        brand_name: None,
        feature: None,
        address: "马坊乡职业技能培训点",
    },
    StationSeed {
        code: "jiti_jingji",
        name: "“集体经济”代表服务岗",
        kind: "service_post",
        township: "mafang",
        brand_name: None,
        feature: None,
        address: "马坊乡农村集体经济服务中心",
    },
    // 牛川乡 (2)
    StationSeed {
        code: "caomu_shengtai",
        name: "“草牧生态”代表服务岗",
        kind: "service_post",
        township: "niuchuan",
        brand_name: None,
        feature: None,
        address: "牛川乡草场管护站",
    },
    StationSeed {
        code: "bianmin_daiban",
        name: "“便民代办”代表服务岗",
        kind: "service_post",
        township: "niuchuan",
        brand_name: None,
        feature: None,
        address: "牛川乡便民服务中心",
    },
    // --- 1 demonstration base (示范基地) --------------------------------------
    StationSeed {
        code: "baibei_square",
        name: "百备村人大主题广场",
        kind: "demonstration_base",
        township: "weima",
        brand_name: None,
        feature: Some("在市人大工作队帮助下建成，集中展示人民代表大会制度知识和代表履职成果，是开展代表活动和民主法治宣传的示范阵地。"),
        address: "喂马乡百备村村委会广场",
    },
];

// ---------------------------------------------------------------------------
// Grids (网格)
// ---------------------------------------------------------------------------

/// The 8 grids of 滨河社区 (station `"binhe"`).
pub const BINHE_GRIDS: &[&str] = &[
    "滨河第一网格",
    "滨河第二网格",
    "滨河第三网格",
    "滨河第四网格",
    "滨河第五网格",
    "滨河第六网格",
    "滨河第七网格",
    "滨河第八网格",
];

// ---------------------------------------------------------------------------
// Departments (承办部门)
// ---------------------------------------------------------------------------

/// A department that handles forwarded opinion items.
pub struct DepartmentSeed {
    /// ASCII slug, unique.
    pub code: &'static str,
    pub name: &'static str,
    /// `"county"` or `"township"`.
    pub level: &'static str,
    /// Township code for township-level departments, `None` for county ones.
    pub township: Option<&'static str>,
}

/// 20 county departments plus the 11 township (district) governments.
pub const DEPARTMENTS: &[DepartmentSeed] = &[
    // --- county level (县直部门) ----------------------------------------------
    DepartmentSeed {
        code: "jiaotong",
        name: "和顺县交通运输局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "renshe",
        name: "和顺县人力资源和社会保障局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "canlian",
        name: "和顺县残疾人联合会",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "zhujian",
        name: "和顺县住房和城乡建设局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "shengtai",
        name: "晋中市生态环境局和顺分局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "weijian",
        name: "和顺县卫生健康和体育局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "jiaoke",
        name: "和顺县教育科技局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "nongye",
        name: "和顺县农业农村局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "shuili",
        name: "和顺县水利局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "minzheng",
        name: "和顺县民政局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "yingji",
        name: "和顺县应急管理局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "gongan",
        name: "和顺县公安局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "ziran",
        name: "和顺县自然资源局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "shijian",
        name: "和顺县市场监督管理局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "chengguan",
        name: "和顺县城市管理局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "yibao",
        name: "和顺县医疗保障局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "xinfang",
        name: "和顺县信访局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "sifa",
        name: "和顺县司法局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "caizheng",
        name: "和顺县财政局",
        level: "county",
        township: None,
    },
    DepartmentSeed {
        code: "wenlv",
        name: "和顺县文化和旅游局",
        level: "county",
        township: None,
    },
    // --- township level (乡镇人民政府) ----------------------------------------
    DepartmentSeed {
        code: "yixing_gov",
        name: "义兴镇人民政府",
        level: "township",
        township: Some("yixing"),
    },
    DepartmentSeed {
        code: "liyang_gov",
        name: "李阳镇人民政府",
        level: "township",
        township: Some("liyang"),
    },
    DepartmentSeed {
        code: "songyan_gov",
        name: "松烟镇人民政府",
        level: "township",
        township: Some("songyan"),
    },
    DepartmentSeed {
        code: "qingcheng_gov",
        name: "青城镇人民政府",
        level: "township",
        township: Some("qingcheng"),
    },
    DepartmentSeed {
        code: "hengling_gov",
        name: "横岭镇人民政府",
        level: "township",
        township: Some("hengling"),
    },
    DepartmentSeed {
        code: "yangguangzhan_gov",
        name: "阳光占乡人民政府",
        level: "township",
        township: Some("yangguangzhan"),
    },
    DepartmentSeed {
        code: "pingsong_gov",
        name: "平松乡人民政府",
        level: "township",
        township: Some("pingsong"),
    },
    DepartmentSeed {
        code: "weima_gov",
        name: "喂马乡人民政府",
        level: "township",
        township: Some("weima"),
    },
    DepartmentSeed {
        code: "mafang_gov",
        name: "马坊乡人民政府",
        level: "township",
        township: Some("mafang"),
    },
    DepartmentSeed {
        code: "niuchuan_gov",
        name: "牛川乡人民政府",
        level: "township",
        township: Some("niuchuan"),
    },
    DepartmentSeed {
        code: "chengqu_gov",
        name: "城区人民政府",
        level: "township",
        township: Some("chengqu"),
    },
];

// ---------------------------------------------------------------------------
// People: names and occupations
// ---------------------------------------------------------------------------

/// Common surnames, most frequent in Shanxi first. No duplicates.
pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "赵", "郭", "杨", "武", "陈", "高", //
    "梁", "贾", "郝", "田", "韩", "孟", "阎", "范", "薛", "乔", //
    "白", "史", "牛", "冯", "霍", "温", "吕", "段", "曹", "杜", //
    "常", "侯", "程", "宋", "马", "孙", "周", "吴", "徐", "胡", //
    "许", "石", "任", "秦", "成", "申", "安", "卫", "裴", "庞", //
    "原", "岳", "苗", "路", "靳", "董", "魏", "景", "弓", "药", //
];

/// Given names. The first [`FEMALE_GIVEN_NAMES`] entries are female names,
/// the rest male.
pub const GIVEN_NAMES: &[&str] = &[
    // --- female (70) ---
    "秀英", "桂英", "玉兰", "秀兰", "丽华", "淑芬", "红梅", "丽娟", "海燕", "晓燕", //
    "艳红", "雪梅", "春燕", "慧敏", "婷婷", "丽", "静", "敏", "娜", "芳", //
    "燕", "霞", "欣怡", "雅琴", "美玲", "晓丽", "建英", "俊芳", "润梅", "改莲", //
    "爱莲", "翠萍", "小红", "桂香", "金凤", "巧玲", "彩霞", "晋芳", "丽萍", "文静", //
    "思雨", "佳慧", "梦瑶", "悦", "瑞霞", "建萍", "月娥", "玉珍", "秀珍", "海霞", //
    "凤英", "慧芳", "亚楠", "晓红", "丽君", "冬梅", "春花", "晓琳", "宇婷", "雨涵", //
    "晶", "蕾", "琳", "丹", "秋菊", "银花", "红霞", "素琴", "美霞", "雪琴", //
    // --- male (80) ---
    "建国", "建军", "志强", "国华", "卫东", "军", "伟", "强", "磊", "涛", //
    "斌", "鹏", "勇", "杰", "峰", "晋生", "海龙", "文斌", "俊杰", "志刚", //
    "振华", "建平", "保平", "新民", "拴柱", "二虎", "栓成", "晓东", "宏伟", "国栋", //
    "明", "刚", "浩然", "子轩", "宇航", "博文", "晨阳", "一鸣", "天佑", "立新", //
    "向东", "红军", "铁牛", "满仓", "德福", "玉明", "金锁", "海军", "鑫", "亮", //
    "凯", "超", "晓军", "建华", "跃进", "胜利", "来福", "永刚", "振宇", "俊峰", //
    "晋军", "文明", "国庆", "志远", "少华", "利军", "小兵", "成林", "守义", "有财", //
    "双喜", "树林", "旭东", "晋宏", "瑞军", "忠民", "学文", "继红", "永平", "润生", //
];

/// Number of leading entries of [`GIVEN_NAMES`] that are female names.
pub const FEMALE_GIVEN_NAMES: usize = 70;

/// Deputies' occupations.
pub const OCCUPATIONS: &[&str] = &[
    "村党支部书记",
    "村民委员会主任",
    "种植合作社理事长",
    "养殖专业户",
    "家庭农场主",
    "乡村医生",
    "乡镇卫生院医生",
    "县人民医院医生",
    "小学教师",
    "中学教师",
    "个体工商户",
    "企业职工",
    "煤矿职工",
    "民营企业负责人",
    "社区主任",
    "社区网格员",
    "退役军人",
    "农民",
    "农村电商创业者",
    "民宿经营者",
    "农机手",
    "非遗传承人",
    "律师",
    "乡镇干部",
    "县直机关干部",
    "供电所职工",
    "银行职员",
    "客运驾驶员",
    "物业公司经理",
    "志愿服务队队长",
    "退休教师",
];

/// Professional fields linking deputies with special committees.
pub const PROFESSIONAL_FIELDS: &[&str] = &[
    "法律",
    "财经",
    "农业农村",
    "教育科技",
    "医疗卫生",
    "生态环境",
    "社会建设",
    "城乡建设",
];

/// A special committee or working body of the standing committee.
pub struct CommitteeSeed {
    /// The natural key import files name it by.
    pub code: &'static str,
    pub name: &'static str,
    /// One of [`PROFESSIONAL_FIELDS`].
    pub field: &'static str,
}

/// 和顺县人大常委会's special committees and working bodies; together they
/// cover every professional field.
pub const SPECIAL_COMMITTEES: &[CommitteeSeed] = &[
    CommitteeSeed {
        code: "fazhi",
        name: "和顺县人大法制委员会",
        field: "法律",
    },
    CommitteeSeed {
        code: "caijing",
        name: "和顺县人大财政经济委员会",
        field: "财经",
    },
    CommitteeSeed {
        code: "shejian",
        name: "和顺县人大社会建设委员会",
        field: "社会建设",
    },
    CommitteeSeed {
        code: "jiansi",
        name: "和顺县人大常委会监察和司法工作委员会",
        field: "法律",
    },
    CommitteeSeed {
        code: "yusuan",
        name: "和顺县人大常委会预算工作委员会",
        field: "财经",
    },
    CommitteeSeed {
        code: "nongye",
        name: "和顺县人大常委会农业农村工作委员会",
        field: "农业农村",
    },
    CommitteeSeed {
        code: "jiaokewen",
        name: "和顺县人大常委会教育科学文化工作委员会",
        field: "教育科技",
    },
    CommitteeSeed {
        code: "weijian",
        name: "和顺县人大常委会卫生健康工作委员会",
        field: "医疗卫生",
    },
    CommitteeSeed {
        code: "huanzi",
        name: "和顺县人大常委会环境与资源保护工作委员会",
        field: "生态环境",
    },
    CommitteeSeed {
        code: "chengjian",
        name: "和顺县人大常委会城乡建设工作委员会",
        field: "城乡建设",
    },
];

// ---------------------------------------------------------------------------
// Opinion item categories and campaigns
// ---------------------------------------------------------------------------

/// Opinion item categories: (code, Chinese label).
pub const CATEGORIES: &[(&str, &str)] = &[
    ("roads_transport", "道路交通"),
    ("employment", "就业创业"),
    ("social_security", "社会保障"),
    ("environment", "生态环境"),
    ("disputes", "矛盾纠纷"),
    ("safety_hazards", "安全隐患"),
    ("healthcare", "医疗卫生"),
    ("education", "教育"),
    ("agriculture", "农业农村"),
    ("housing", "住房保障"),
    ("governance", "基层治理"),
    ("other", "其他"),
];

/// Themed campaigns (主题实践活动): (name, one-sentence description).
pub const CAMPAIGNS: &[(&str, &str)] = &[
    (
        "百名代表入千户",
        "组织百名各级人大代表走进千家万户，面对面倾听群众呼声、收集社情民意、宣传政策法规。",
    ),
    (
        "双岗建新功",
        "引导人大代表立足本职岗位和代表服务岗位，在产业转型、乡村振兴、民生保障中建功立业。",
    ),
];

// ---------------------------------------------------------------------------
// Text templates
// ---------------------------------------------------------------------------

/// Opinion item templates: (category code, title, content). 40 entries,
/// 3-4 per category.
pub const PETITION_TEMPLATES: &[(&str, &str, &str)] = &[
    // --- roads_transport (4) ---
    (
        "roads_transport",
        "通村道路路面坑洼亟待修补",
        "我村通往乡政府的水泥路多处坑洼破损，雨天积水严重，农用车和学生上下学通行都不安全，希望尽快安排修补。",
    ),
    (
        "roads_transport",
        "山区村缺少客运班车出行不便",
        "村里老人到县城看病要步行好几里路到公路边等车，希望交通运输部门延伸农村客运班线，方便群众出行。",
    ),
    (
        "roads_transport",
        "滨河社区门口早晚高峰乱停车",
        "滨河社区门口路段早晚接送孩子时车辆乱停乱放，经常堵车，建议增设临时停车位并加强疏导管理。",
    ),
    (
        "roads_transport",
        "村口急弯处缺少警示标志和护栏",
        "村口公路急弯处没有警示标志和防护栏，夜间已发生多起车辆剐蹭，建议尽快设置减速带和护栏。",
    ),
    // --- employment (4) ---
    (
        "employment",
        "残疾人就业渠道少希望提供公益岗位",
        "我家孩子肢体残疾，有一定劳动能力，但一直找不到合适工作，希望残联和人社部门提供公益性岗位或居家就业机会。",
    ),
    (
        "employment",
        "返乡创业担保贷款申请难",
        "我返乡准备发展肉牛养殖，申请创业担保贷款手续多、时间长，希望简化流程，给予政策扶持。",
    ),
    (
        "employment",
        "希望农闲时节组织技能培训",
        "村里不少妇女农闲时没有活干，希望组织家政、电商、手工编织等技能培训，帮助大家就近就业增收。",
    ),
    (
        "employment",
        "农民工工资被拖欠讨要无门",
        "我们几个村民在县城工地干活，包工头拖欠工资三个多月，多次讨要未果，请求有关部门帮助追讨。",
    ),
    // --- social_security (3) ---
    (
        "social_security",
        "高龄津贴发放不及时",
        "村里几位八十岁以上老人的高龄津贴已经几个月没有到账，希望民政部门核查原因并及时发放。",
    ),
    (
        "social_security",
        "老人不会手机缴纳居民医保",
        "村里老人不会用手机缴纳城乡居民医保费，希望在村里设置代缴点或安排人员上门帮助办理。",
    ),
    (
        "social_security",
        "低保申请长时间没有结果",
        "我家因病致贫，半年前递交了低保申请，至今没有结果，希望有关部门加快审核并告知办理进度。",
    ),
    // --- environment (3) ---
    (
        "environment",
        "河道垃圾堆积影响环境",
        "村边河道内堆积了大量生活垃圾和建筑垃圾，夏季异味明显，希望组织清理并加强日常保洁。",
    ),
    (
        "environment",
        "养殖场粪污直排污染农田",
        "附近养殖场粪污未经处理直接排放，周边农田和水井受到影响，希望生态环境部门检查督促整改。",
    ),
    (
        "environment",
        "冬季散煤燃烧烟尘扰民",
        "小区附近部分商户冬季燃用散煤，烟尘很大，影响居民生活，建议加快推进清洁取暖改造。",
    ),
    // --- disputes (4) ---
    (
        "disputes",
        "邻里宅基地边界纠纷",
        "我家与邻居因宅基地边界问题多次发生争执，村里调解未果，希望代表和司法所帮助协调解决。",
    ),
    (
        "disputes",
        "物业服务不到位引发业主与物业矛盾",
        "滨河社区某小区物业服务质量差，电梯经常故障，部分业主因此拒缴物业费，双方矛盾激化，希望社区和代表出面协调。",
    ),
    (
        "disputes",
        "楼上漏水损坏楼下住户房屋",
        "楼上住户卫生间漏水导致我家屋顶发霉损坏，多次沟通对方不予处理，希望网格员和代表帮助调解。",
    ),
    (
        "disputes",
        "土地流转租金未按约定支付",
        "村里流转给合作社的土地租金去年未按合同支付，群众意见很大，希望乡镇督促尽快兑现。",
    ),
    // --- safety_hazards (4) ---
    (
        "safety_hazards",
        "滨河社区楼道堆放杂物存在消防隐患",
        "滨河社区部分楼道堆放纸箱、旧家具等杂物，占用消防通道，存在火灾隐患，希望组织集中清理。",
    ),
    (
        "safety_hazards",
        "电动车楼道充电安全隐患大",
        "小区居民把电动车推进楼道、私拉电线充电，存在很大安全隐患，建议增设集中充电桩。",
    ),
    (
        "safety_hazards",
        "村内危旧房屋存在坍塌风险",
        "村里有几处无人居住的老旧土坯房墙体开裂，紧邻村道，雨季有坍塌风险，希望尽快排查处置。",
    ),
    (
        "safety_hazards",
        "滨河社区小区井盖破损",
        "滨河社区小区内有一处井盖破损松动，晚上看不清容易踩空，老人孩子经过很危险，希望尽快更换。",
    ),
    // --- healthcare (3) ---
    (
        "healthcare",
        "村卫生室常用药品经常断货",
        "村卫生室常用的降压药、降糖药经常断货，老人只能跑到镇上买药，希望保障基层药品供应。",
    ),
    (
        "healthcare",
        "希望县医院专家定期下乡义诊",
        "山区群众看病路远不方便，希望县医院组织专家定期到乡镇卫生院坐诊义诊。",
    ),
    (
        "healthcare",
        "异地就医报销手续繁琐",
        "在外地住院后回来报销需要跑好几趟，希望医保部门简化异地就医备案和报销手续。",
    ),
    // --- education (3) ---
    (
        "education",
        "村小学冬季取暖条件差",
        "村小学教室取暖设施老旧，冬天孩子们上课很冷，希望教育部门改善取暖条件。",
    ),
    (
        "education",
        "校门口上下学时段交通秩序混乱",
        "学校门口上下学时段接送车辆多、秩序乱，存在安全隐患，希望安排交警和志愿者疏导。",
    ),
    (
        "education",
        "城区公办幼儿园学位紧张",
        "城区公办幼儿园学位紧张，报名很难，希望扩大普惠性学前教育资源。",
    ),
    // --- agriculture (3) ---
    (
        "agriculture",
        "农田灌溉水渠年久失修",
        "村里灌溉水渠多处坍塌渗漏，春耕用水困难，希望水利部门安排维修。",
    ),
    (
        "agriculture",
        "小杂粮销售难希望拓宽渠道",
        "今年谷子、莜麦丰收但收购价低、销路窄，希望帮助对接电商平台和收购企业。",
    ),
    (
        "agriculture",
        "野猪毁坏庄稼损失严重",
        "近年野猪频繁下山啃食玉米，损失严重，希望有关部门采取防控措施并落实损失补偿。",
    ),
    // --- housing (3) ---
    (
        "housing",
        "农村危房改造补助如何申请",
        "我家住的是几十年的土坯房，墙体开裂，想申请农村危房改造补助，不知道如何办理，希望给予指导。",
    ),
    (
        "housing",
        "老旧小区改造后配套设施未完善",
        "小区改造后单元门禁和路灯一直没有安装到位，希望住建部门督促施工单位尽快完善。",
    ),
    (
        "housing",
        "公租房申请条件和流程不清楚",
        "在县城务工租房负担重，想申请公租房，希望公开申请条件、办理流程和房源信息。",
    ),
    // --- governance (3) ---
    (
        "governance",
        "村务公开不及时群众有疑问",
        "村里集体收入和支出情况长期没有公开，群众有疑问，希望乡镇督促按时公开村务财务。",
    ),
    (
        "governance",
        "社区缺少公共活动场所",
        "社区老年人多，缺少休闲健身场所，建议利用闲置空地建设小型活动广场。",
    ),
    (
        "governance",
        "流浪犬增多影响居民出行安全",
        "近期社区附近流浪犬增多，多次追咬行人，希望城管部门和社区联合处置。",
    ),
    // --- other (3) ---
    (
        "other",
        "希望在村里设立快递代收点",
        "村里没有快递点，取快递要跑到镇上，希望邮政和快递企业在村里设立代收点。",
    ),
    (
        "other",
        "部分区域手机信号差",
        "我村部分区域手机信号弱，网课和视频通话经常中断，希望通信运营商增建基站。",
    ),
    (
        "other",
        "希望增加乡村文化活动",
        "村里文化活动少，希望文化部门定期组织送戏下乡、电影放映等活动，丰富群众精神生活。",
    ),
];

/// Duty stories (履职故事): (title, body of 2-3 sentences). Written without
/// names so that any deputy can be the author.
pub const STORY_TEMPLATES: &[(&str, &str)] = &[
    (
        "一条坑洼路的“变身记”",
        "接待日上，村民反映通村道路坑洼难行。代表实地查看后将问题录入“智慧人大”平台，经站点建账、逐级转办至交通运输部门，不到两个月路面就完成了修补。如今村民出行顺畅，纷纷为代表点赞。",
    ),
    (
        "扫一扫，诉求直达代表",
        "一位老人让孙子扫描代表的专属二维码，留言反映小区路灯不亮的问题。代表当天回复并联系社区和城管部门，三天后路灯重新亮起。老人说：“没想到扫个码，事情就办成了。”",
    ),
    (
        "帮残疾青年端上“饭碗”",
        "走访中，代表得知一名肢体残疾青年多年找不到工作。代表协调残联和人社部门为他争取到公益性岗位，并联系电商企业开展技能培训。如今他每月有了稳定收入，生活有了新盼头。",
    ),
    (
        "网格里的“融合共治”",
        "滨河社区驻站代表与网格员、社区民警、物业人员组成融合共治小组，每周走访所联系的网格。一起因楼上漏水引发的邻里纠纷，在小组三次上门调解后圆满化解，双方握手言和。",
    ),
    (
        "直播间里卖出“致富粮”",
        "平松乡的代表走进直播间，为乡亲们的小米、莜面“代言”。一场直播下来，积压的小杂粮销售一空，直播间里还收集到十余条群众诉求。代表说：“直播既是带货，也是听民声。”",
    ),
    (
        "民情小院里的议事会",
        "每月第一个周末，代表都会在民情小院和村民围坐在一起拉家常、议村事。村民提出的灌溉水渠维修问题，经代表反映后列入乡里民生实事项目，当年就完成了整修。",
    ),
    (
        "一起宅基地纠纷的化解",
        "两户村民因宅基地边界争执多年，关系十分紧张。代表邀请司法所工作人员一起查档案、量现场，耐心讲法说理，最终双方签订调解协议，多年的心结终于解开。",
    ),
    (
        "隐患排查守平安",
        "入冬前，代表随网格员逐楼排查安全隐患，发现多处楼道堆放杂物、私拉电线充电。代表推动社区和物业集中清理，并协调增设集中充电桩，为居民筑牢安全防线。",
    ),
    (
        "百名代表入千户，一户一本民情账",
        "在“百名代表入千户”活动中，代表走访了所联系的五十多户群众，把收集到的问题逐条记入民情日志。对能当场解决的当场解决，对需要部门办理的及时转办并跟踪反馈，群众满意度明显提升。",
    ),
    (
        "双岗之上建新功",
        "作为一名种植合作社理事长，代表既干好本职岗位，又坚守代表服务岗。他牵头引进设施蔬菜新品种，带动周边农户增收，还在服务岗上为群众解答政策疑问二百多次。",
    ),
    (
        "主题广场上的普法课",
        "百备村人大主题广场建成后，代表们定期在这里开展宣讲活动。一次普法课上，代表结合身边案例讲解土地承包和赡养老人的法律知识，村民们听得认真、问得踊跃。",
    ),
    (
        "一份被采纳的建议",
        "代表在调研中发现山区群众看病路远，提出建立县医院专家定期下乡坐诊机制的建议。建议被卫生健康部门采纳，如今专家每月到乡镇卫生院坐诊，群众在家门口就能看上好医生。",
    ),
];

// ---------------------------------------------------------------------------
// Compile-time checks of the invariants the report fixes
// ---------------------------------------------------------------------------

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn count_stations(kind: &str) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < STATIONS.len() {
        if str_eq(STATIONS[i].kind, kind) {
            n += 1;
        }
        i += 1;
    }
    n
}

const fn is_township(code: &str) -> bool {
    let mut i = 0;
    while i < TOWNSHIPS.len() {
        if str_eq(TOWNSHIPS[i].code, code) {
            return true;
        }
        i += 1;
    }
    false
}

const fn station_codes_unique_and_townships_known() -> bool {
    let mut i = 0;
    while i < STATIONS.len() {
        if !is_township(STATIONS[i].township) {
            return false;
        }
        let mut j = i + 1;
        while j < STATIONS.len() {
            if str_eq(STATIONS[i].code, STATIONS[j].code) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

const _: () = {
    assert!(TOWNSHIPS.len() == 11);
    assert!(STATIONS.len() == 72);
    assert!(count_stations("liaison_station") == 9);
    assert!(count_stations("service_point") == 25);
    assert!(count_stations("service_post") == 37);
    assert!(count_stations("demonstration_base") == 1);
    assert!(station_codes_unique_and_townships_known());
    assert!(BINHE_GRIDS.len() == 8);
    assert!(FEMALE_GIVEN_NAMES <= GIVEN_NAMES.len());
};
