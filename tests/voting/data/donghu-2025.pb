META
key;value
description;东湖社区 2025 民生微实事 yearly round (council approval ballot)
country;China
unit;东湖社区
instance;2025
num_projects;8
num_votes;9
budget;500000
vote_type;approval
rule;greedy
date_begin;2025-03-01
date_end;2025-03-15
language;zh
PROJECTS
project_id;cost;name;votes;selected
p1;180000;"幸福路路灯改造; 二期";6;1
p2;95000.50;老年活动室空调;6;1
p3;60000;儿童游乐设施维修;4;1
p4;150000;"社区食堂 ""长者餐"" 补贴";3;0
p5;42000;楼道扶手加装;4;1
p6;230000;停车棚改造;5;0
p7;18000;"宣传栏
更换";2;1
p8;75000;垃圾分类亭;0;0
VOTES
voter_id;vote;seat
m1;p1,p2,p6;registered
m2;p1,p2,p3;registered
m3;p1,p6,p5;registered
m4;p2,p6,p3;non-registered
m5;p1,p2,p6,p5;registered
m6;p4,p7,p5;non-registered
m7;p4,p3,p5;registered
m8;p1,p2,p6,p4,p7;non-registered
m9;p1,p2,p3;registered
