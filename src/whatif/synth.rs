//! A seeded generator of synthetic organisations, written as an `aws iam get-account-authorization-details`
//! export (`iamgate whatif --generate N --seed S`, docs/whatif.md). The mix follows what platform teams run:
//! roles with attached managed policies (broad SageMaker access, IP allow-lists that include a shared Zscaler
//! range, endpoint-only access, the `NotIpAddress` lockout, read-only), inline policies (some keyed on
//! `${aws:PrincipalTag/profile}`), permissions boundaries, users in groups, tags, a few dangling references
//! when asked for.

use serde_json::{Value, json};
use std::io::Write;

const ACCOUNT: &str = "111122223333";

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

const PRESIGN: &str = "sagemaker:CreatePresignedDomainUrl";

/// The managed policies: (name, document).
fn managed() -> Vec<(&'static str, Value)> {
    vec![
        (
            "StudioAccess",
            doc(
                json!([{"Sid": "Presign", "Effect": "Allow", "Action": ["sagemaker:CreatePresignedDomainUrl", "sagemaker:Describe*", "sagemaker:List*"], "Resource": "*"}]),
            ),
        ),
        (
            "StudioFromCorpOrZscaler",
            doc(
                json!([{"Sid": "PresignFromCorp", "Effect": "Allow", "Action": PRESIGN, "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24", "165.225.0.0/17"]}}}]),
            ),
        ),
        (
            "StudioViaEndpoints",
            doc(
                json!([{"Sid": "PresignViaEndpoints", "Effect": "Allow", "Action": PRESIGN, "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-0api0000000000001", "vpce-0studio000000002"]}}}]),
            ),
        ),
        (
            "DenyOutsideCorp",
            doc(
                json!([{"Sid": "DenyNotCorp", "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}}}]),
            ),
        ),
        (
            "DataReadOnly",
            doc(
                json!([{"Sid": "Read", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "athena:Get*"], "Resource": "*"}]),
            ),
        ),
        (
            "PlatformAdmin",
            doc(json!([{"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}])),
        ),
        (
            "BoundarySageMaker",
            doc(
                json!([{"Sid": "SageMakerOnly", "Effect": "Allow", "Action": ["sagemaker:*", "s3:*"], "Resource": "*"},
            {"Sid": "DenyPublicPresign", "Effect": "Deny", "Action": PRESIGN, "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": ["vpce-0api0000000000001", "vpce-0studio000000002"]}, "Bool": {"aws:ViaAWSService": "false"}}}]),
            ),
        ),
        // The set-qualifier trap: `ForAllValues:` is true when the key is absent, so this admits every public
        // request too (docs/SEMANTICS.md §7.7).
        (
            "StudioForAllValuesTrap",
            doc(
                json!([{"Sid": "PresignForAllValues", "Effect": "Allow", "Action": PRESIGN, "Resource": "*",
                    "Condition": {"ForAllValues:StringEquals": {"aws:SourceVpce": ["vpce-0api0000000000001", "vpce-0studio000000002"]}}}]),
            ),
        ),
        (
            "BoundaryDescribeOnly",
            doc(
                json!([{"Sid": "DescribeOnly", "Effect": "Allow", "Action": ["sagemaker:Describe*", "sagemaker:List*"], "Resource": "*"}]),
            ),
        ),
    ]
}

fn arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

fn attached(names: &[&str]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| json!({"PolicyName": n, "PolicyArn": arn(n)}))
            .collect(),
    )
}

/// Write an organisation of `n` principals (about one in ten a user) from `seed` to `out`. With `dangling`,
/// one principal in fifty attaches a managed policy the export does not hold.
pub fn write(n: usize, seed: u64, dangling: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let teams = ["ml", "risk", "fraud", "marketing", "research", "platform"];
    let mixes: [&[&str]; 8] = [
        &["StudioAccess"],
        &["StudioForAllValuesTrap", "DataReadOnly"],
        &["StudioFromCorpOrZscaler"],
        &["StudioViaEndpoints"],
        &["StudioAccess", "DenyOutsideCorp"],
        &["DataReadOnly"],
        &["PlatformAdmin"],
        &["StudioFromCorpOrZscaler", "DataReadOnly"],
    ];
    write!(out, "{{\"UserDetailList\": [")?;
    let users = n / 10;
    for i in 0..users {
        let team = teams
            .get((next() % teams.len() as u64) as usize)
            .copied()
            .unwrap_or("ml");
        let u = json!({
            "Path": "/", "UserName": format!("user{i}"), "UserId": format!("AIDA{i:016}"),
            "Arn": format!("arn:aws:iam::{ACCOUNT}:user/user{i}"),
            "GroupList": [format!("{team}-analysts")],
            "UserPolicyList": [], "AttachedManagedPolicies": [],
            "Tags": [{"Key": "team", "Value": team}, {"Key": "profile", "Value": format!("user{i}")}]
        });
        if i > 0 {
            write!(out, ",")?;
        }
        write!(out, "\n{u}")?;
    }
    write!(out, "],\n\"GroupDetailList\": [")?;
    for (i, team) in teams.iter().enumerate() {
        let g = json!({
            "Path": "/", "GroupName": format!("{team}-analysts"), "GroupId": format!("AGPA{i:016}"),
            "Arn": format!("arn:aws:iam::{ACCOUNT}:group/{team}-analysts"),
            "GroupPolicyList": [{"PolicyName": "team-profile", "PolicyDocument": doc(json!([{"Sid": "OwnProfile", "Effect": "Allow", "Action": PRESIGN,
                "Resource": "arn:aws:sagemaker:*:*:user-profile/*/${aws:PrincipalTag/profile}"}]))}],
            "AttachedManagedPolicies": attached(if i % 2 == 0 { &["DataReadOnly"] } else { &["StudioFromCorpOrZscaler"] })
        });
        if i > 0 {
            write!(out, ",")?;
        }
        write!(out, "\n{g}")?;
    }
    write!(out, "],\n\"RoleDetailList\": [")?;
    for i in 0..n.saturating_sub(users) {
        let r = next();
        let team = teams
            .get((r % teams.len() as u64) as usize)
            .copied()
            .unwrap_or("ml");
        let mix = mixes
            .get(((r >> 8) % mixes.len() as u64) as usize)
            .copied()
            .unwrap_or(&[]);
        let mut policies: Vec<&str> = mix.to_vec();
        if dangling && i % 50 == 7 {
            policies.push("RetiredPolicy");
        }
        let mut inline = Vec::new();
        if (r >> 16) % 4 == 0 {
            // A team-scoped inline grant: the same text for every role of the team.
            inline.push(json!({"PolicyName": "team-studio", "PolicyDocument": doc(json!([{"Sid": "TeamProfiles", "Effect": "Allow", "Action": PRESIGN,
                "Resource": format!("arn:aws:sagemaker:*:{ACCOUNT}:user-profile/*/{team}-*")}]))}));
        }
        if (r >> 20) % 8 == 0 {
            inline.push(json!({"PolicyName": "own-profile", "PolicyDocument": doc(json!([{"Sid": "OwnProfile", "Effect": "Allow", "Action": PRESIGN,
                "Resource": "arn:aws:sagemaker:*:*:user-profile/*/${aws:PrincipalTag/profile}"}]))}));
        }
        let boundary = match (r >> 24) % 5 {
            0 => {
                json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn("BoundarySageMaker")})
            }
            1 => {
                json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn("BoundaryDescribeOnly")})
            }
            _ => Value::Null,
        };
        let mut role = json!({
            "Path": "/", "RoleName": format!("{team}-role-{i}"), "RoleId": format!("AROA{i:016}"),
            "Arn": format!("arn:aws:iam::{ACCOUNT}:role/{team}-role-{i}"),
            "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}])),
            "RolePolicyList": inline, "AttachedManagedPolicies": attached(&policies),
            "Tags": [{"Key": "team", "Value": team}, {"Key": "profile", "Value": format!("{team}-{}", i % 97)}]
        });
        if !boundary.is_null() {
            if let Some(o) = role.as_object_mut() {
                o.insert("PermissionsBoundary".into(), boundary);
            }
        }
        if i > 0 {
            write!(out, ",")?;
        }
        write!(out, "\n{role}")?;
    }
    write!(out, "],\n\"Policies\": [")?;
    for (i, (name, d)) in managed().into_iter().enumerate() {
        let p = json!({
            "PolicyName": name, "PolicyId": format!("ANPA{i:016}"), "Arn": arn(name), "Path": "/",
            "DefaultVersionId": "v2", "AttachmentCount": 1, "IsAttachable": true,
            "PolicyVersionList": [
                {"Document": doc(json!([])), "VersionId": "v1", "IsDefaultVersion": false},
                {"Document": d, "VersionId": "v2", "IsDefaultVersion": true}
            ]
        });
        if i > 0 {
            write!(out, ",")?;
        }
        write!(out, "\n{p}")?;
    }
    writeln!(out, "]}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// corpus/whatif/example-org.json is what `--generate 20 --seed 1` writes (regenerate it when this fails).
    #[test]
    fn whatif_synth_example_has_not_drifted() {
        let mut out = Vec::new();
        write(20, 1, false, &mut out).unwrap();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/whatif/example-org.json");
        assert!(
            std::fs::read(path).unwrap() == out,
            "run `iamgate whatif --generate 20 --seed 1 --out corpus/whatif/example-org.json`"
        );
    }

    /// The same seed writes the same export; the export is valid JSON with the four lists.
    #[test]
    fn whatif_synth_is_seeded() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut c = Vec::new();
        write(40, 7, false, &mut a).unwrap();
        write(40, 7, false, &mut b).unwrap();
        write(40, 8, false, &mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let v: Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(v["RoleDetailList"].as_array().unwrap().len(), 36);
        assert_eq!(v["UserDetailList"].as_array().unwrap().len(), 4);
        assert_eq!(v["Policies"].as_array().unwrap().len(), managed().len());
    }
}
