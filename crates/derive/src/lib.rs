//! `#[derive(Record)]`: a tabula table definition from a Rust struct with named fields. Use it
//! through the `tabula` crate, which re-exports it; see `tabula::Record` for the attributes.
//!
//! The macro only writes the definition (`Record::Key`, `Record::TABLE`, `Record::definition`:
//! the key type is the key field's, `T` for an `Option<T>` auto-increment key, a tuple for a
//! key of several fields); the rows
//! themselves go through the struct's own serde implementations, so the struct also derives
//! `Serialize` and `Deserialize`. It also writes `<Struct>Fields` and `<Struct>::FIELDS`, typed
//! handles on the columns for filters (`tabula::Field`). Column types come from the field types: integers are `int`,
//! `f32`/`f64` `float`, `String`/`char` `text`, `bool` `bool`, `Timestamp` (tabula's or jiff's),
//! chrono's `DateTime` and time's `OffsetDateTime`, `PrimitiveDateTime` and `UtcDateTime`
//! `timestamp`, `Vec`
//! and sets `list`, maps `map`, anything else `any`; `Option<T>` is `T`, nullable. Every other
//! field is `not null`. serde's `rename` and `rename_all` name the columns as serde names the
//! fields; serde attributes that would store something other than one column per field
//! (`flatten`, `skip`, `tag`, ...) are compile errors, as is `auto_increment` on a key that is
//! not an `Option`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Expr, Fields, GenericArgument, LitStr, PathArguments, Type};

/// Derives `tabula::Record` for a struct with named fields.
///
/// Struct attributes: `#[tabula(table = "name")]` (default: the struct's name in snake case),
/// `#[tabula(key = "name")]` (for a key of several fields: the column holding their list,
/// default `key`). Field attributes, in `#[tabula(...)]`: `primary_key` (one field, or several
/// for a key of several fields, none of them an `Option`), `auto_increment` (on a one-field
/// key), `unique`, `index`, `nullable`, `default = <expr>` (anything `Into<Value>`),
/// `type = "int" | "float" | "text" | "bool" | "bytes" | "timestamp" | "list" | "map" | "any"`.
#[proc_macro_derive(Record, attributes(tabula))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

#[derive(Default)]
struct FieldAttrs {
    primary_key: bool,
    auto_increment: bool,
    unique: bool,
    index: bool,
    nullable: bool,
    default: Option<Expr>,
    ty: Option<LitStr>,
}

fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut attrs = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("tabula")) {
        attr.parse_nested_meta(|meta| {
            let flag = |set: &mut bool| {
                *set = true;
                Ok(())
            };
            if meta.path.is_ident("primary_key") {
                flag(&mut attrs.primary_key)
            } else if meta.path.is_ident("auto_increment") {
                flag(&mut attrs.auto_increment)
            } else if meta.path.is_ident("unique") {
                flag(&mut attrs.unique)
            } else if meta.path.is_ident("index") {
                flag(&mut attrs.index)
            } else if meta.path.is_ident("nullable") {
                flag(&mut attrs.nullable)
            } else if meta.path.is_ident("default") {
                attrs.default = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("type") {
                attrs.ty = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown tabula attribute: expected primary_key, auto_increment, unique, \
                     index, nullable, default = .. or type = \"..\"",
                ))
            }
        })?;
    }
    Ok(attrs)
}

/// The struct's `#[tabula(table = "..", key = "..")]`: the table's name (default: the struct's
/// name in snake case) and, for a key of several fields, the name of the column that holds
/// their list (default `key`).
fn table_attrs(input: &DeriveInput) -> syn::Result<(String, Option<LitStr>)> {
    let mut name = None;
    let mut key = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("tabula")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                let lit: LitStr = meta.value()?.parse()?;
                name = Some(lit.value());
                Ok(())
            } else if meta.path.is_ident("key") {
                key = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown tabula attribute: expected table = \"..\" or key = \"..\""))
            }
        })?;
    }
    Ok((
        name.unwrap_or_else(|| snake_case(&input.ident.to_string())),
        key,
    ))
}

fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The last path segment of a type and its first generic argument, if any.
fn last_segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    let arg = match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((segment.ident.to_string(), arg))
}

/// The type a field's filters compare with: `T` for `Option<T>`, else the field's type.
fn value_type(ty: &Type) -> &Type {
    match last_segment(ty) {
        Some((name, Some(inner))) if name == "Option" => inner,
        _ => ty,
    }
}

/// The column type of a field type, and whether it is an `Option`.
fn column_type(ty: &Type) -> (&'static str, bool) {
    match last_segment(ty) {
        Some((name, Some(inner))) if name == "Option" => (column_type(inner).0, true),
        Some((name, _)) => (
            match name.as_str() {
                "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                | "u128" | "usize" => "Int",
                "f32" | "f64" => "Float",
                "String" | "char" | "str" => "Text",
                "bool" => "Bool",
                // tabula's and jiff's `Timestamp`, chrono's `DateTime<Tz>`, time's date-times.
                "Timestamp" | "DateTime" | "OffsetDateTime" | "PrimitiveDateTime"
                | "UtcDateTime" => "Timestamp",
                "Vec" | "VecDeque" | "HashSet" | "BTreeSet" => "List",
                "HashMap" | "BTreeMap" | "Map" => "Map",
                _ => "Any",
            },
            false,
        ),
        None => ("Any", false),
    }
}

/// serde's `rename_all` rules, so that column names are the names serde writes.
#[derive(Clone, Copy)]
enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn parse(lit: &LitStr) -> syn::Result<RenameRule> {
        Ok(match lit.value().as_str() {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            _ => {
                return Err(syn::Error::new(
                    lit.span(),
                    "unknown serde rename_all rule (serde itself would refuse it)",
                ));
            }
        })
    }

    /// The name serde gives a field named `field` (snake case, as Rust fields are).
    fn apply(self, field: &str) -> String {
        let words = field.split('_').filter(|w| !w.is_empty());
        let capitalized = |w: &str| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        };
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => words.map(capitalized).collect(),
            RenameRule::Camel => {
                let pascal: String = words.map(capitalized).collect();
                let mut chars = pascal.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_lowercase().chain(chars).collect()
                })
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.replace('_', "-").to_ascii_uppercase(),
        }
    }
}

/// What the derive needs of the struct's serde attributes.
struct SerdeStruct {
    /// `#[serde(rename_all = "..")]`.
    rename_all: Option<RenameRule>,
    /// `#[serde(deny_unknown_fields)]`, with its span: a key of several fields is stored in a
    /// column of its own, which such a struct would refuse to read.
    deny_unknown_fields: Option<proc_macro2::Span>,
}

/// The struct's serde attributes that matter here. Other struct-level serde attributes that
/// change the stored shape are refused here rather than failing at run time.
fn serde_struct(attrs: &[syn::Attribute]) -> syn::Result<SerdeStruct> {
    let mut rule = None;
    let mut deny_unknown_fields = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                if meta.input.peek(syn::Token![=]) {
                    rule = Some(RenameRule::parse(&meta.value()?.parse()?)?);
                    Ok(())
                } else {
                    Err(meta.error(
                        "tabula stores what serde serializes: use one rename_all rule, not \
                         separate serialize/deserialize ones",
                    ))
                }
            } else if meta.path.is_ident("tag")
                || meta.path.is_ident("untagged")
                || meta.path.is_ident("transparent")
                || meta.path.is_ident("into")
                || meta.path.is_ident("from")
                || meta.path.is_ident("try_from")
            {
                Err(meta.error(
                    "#[derive(Record)] maps each struct field to a column: this serde attribute \
                     changes what is stored, so the columns would not match",
                ))
            } else if meta.path.is_ident("deny_unknown_fields") {
                deny_unknown_fields = Some(syn::spanned::Spanned::span(&meta.path));
                Ok(())
            } else {
                // Anything else (default, crate, bound, ...) keeps the fields as they are; its
                // value, if any, is skipped.
                skip_value(&meta)
            }
        })?;
    }
    Ok(SerdeStruct {
        rename_all: rule,
        deny_unknown_fields,
    })
}

/// What the derive needs of a field's serde attributes.
struct SerdeField {
    /// `#[serde(rename = "..")]`.
    rename: Option<String>,
    /// `with`, `serialize_with` or `deserialize_with`: the field is stored as that code says,
    /// not as its type would be (a chrono `DateTime` through `ts_seconds` is an integer).
    custom: bool,
}

/// A field's serde attributes that matter here; `flatten` and `skip*` are refused (the column
/// would not be what serde stores).
fn serde_field(field: &syn::Field) -> syn::Result<SerdeField> {
    let mut name = None;
    let mut custom = false;
    let field_name = field
        .ident
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if meta.input.peek(syn::Token![=]) {
                    let lit: LitStr = meta.value()?.parse()?;
                    name = Some(lit.value());
                    Ok(())
                } else {
                    Err(meta.error(
                        "tabula stores what serde serializes: use one rename, not separate \
                         serialize/deserialize ones",
                    ))
                }
            } else if meta.path.is_ident("flatten")
                || meta.path.is_ident("skip")
                || meta.path.is_ident("skip_serializing")
                || meta.path.is_ident("skip_deserializing")
            {
                let attribute = meta
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Err(meta.error(format!(
                    "field `{field_name}`: with #[serde({attribute})] serde does not store it as \
                     one value, but #[derive(Record)] makes every field a column"
                )))
            } else {
                custom |= meta.path.is_ident("with")
                    || meta.path.is_ident("serialize_with")
                    || meta.path.is_ident("deserialize_with");
                skip_value(&meta)
            }
        })?;
    }
    Ok(SerdeField {
        rename: name,
        custom,
    })
}

/// Consumes a serde attribute's value or arguments, which the derive does not need.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

fn named_type(lit: &LitStr) -> syn::Result<&'static str> {
    Ok(match lit.value().as_str() {
        "any" => "Any",
        "bool" => "Bool",
        "int" => "Int",
        "float" => "Float",
        "text" => "Text",
        "bytes" => "Bytes",
        "timestamp" => "Timestamp",
        "list" => "List",
        "map" => "Map",
        _ => {
            return Err(syn::Error::new(
                lit.span(),
                "unknown column type: expected any, bool, int, float, text, bytes, timestamp, \
                 list or map",
            ));
        }
    })
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Record)] needs a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Record)] needs a struct with named fields",
        ));
    };
    let (table, key_column) = table_attrs(input)?;
    let serde = serde_struct(&input.attrs)?;
    let rename_all = serde.rename_all;
    let key_fields = fields
        .named
        .iter()
        .map(field_attrs)
        .filter(|attrs| attrs.as_ref().map_or(true, |a| a.primary_key))
        .count();
    let composite = key_fields > 1;
    // Each key field: its column name and its type.
    let mut keys: Vec<(String, Type)> = Vec::new();
    let mut auto_increment = false;
    let mut columns = Vec::new();
    let mut indexes = Vec::new();
    let mut typed_fields = Vec::new();
    for field in &fields.named {
        let Some(ident) = &field.ident else { continue };
        let name = ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
        let attrs = field_attrs(field)?;
        let serde_attrs = serde_field(field)?;
        let name = match serde_attrs.rename {
            Some(renamed) => renamed,
            None => match rename_all {
                Some(rule) => rule.apply(&name),
                None => name,
            },
        };
        let (inferred, optional) = column_type(&field.ty);
        if attrs.primary_key {
            if composite && attrs.auto_increment {
                return Err(syn::Error::new_spanned(
                    ident,
                    "auto_increment needs a key of one field; this key has several",
                ));
            }
            if composite && optional {
                return Err(syn::Error::new_spanned(
                    &field.ty,
                    format!(
                        "key field `{ident}` cannot be an `Option`: every part of a key has a value"
                    ),
                ));
            }
            if composite && attrs.nullable {
                return Err(syn::Error::new_spanned(
                    ident,
                    "a part of a key cannot be nullable: every part of a key has a value",
                ));
            }
            if attrs.auto_increment && !optional {
                return Err(syn::Error::new_spanned(
                    &field.ty,
                    format!(
                        "auto_increment needs an `Option<_>` key: insert with `{ident}: None` to \
                         get the next key (a plain integer would store its own value, 0 by \
                         default)"
                    ),
                ));
            }
            keys.push((name.clone(), value_type(&field.ty).clone()));
            auto_increment = attrs.auto_increment;
        } else if attrs.auto_increment {
            return Err(syn::Error::new_spanned(
                ident,
                "auto_increment belongs on the primary_key field",
            ));
        }
        let ty = match &attrs.ty {
            Some(lit) => named_type(lit)?,
            // A date-time stored by custom serde code (`ts_seconds`, ...) is not necessarily
            // what a timestamp column reads: `any`, unless `type = ".."` says otherwise.
            None if serde_attrs.custom && inferred == "Timestamp" => "Any",
            None => inferred,
        };
        let ty = syn::Ident::new(ty, proc_macro2::Span::call_site());
        typed_fields.push((
            ident.clone(),
            name.clone(),
            value_type(&field.ty).clone(),
            ty.clone(),
        ));
        let mut column = quote! { ::tabula::Column::new(#name, ::tabula::ColumnType::#ty) };
        if !(optional || attrs.nullable || (attrs.primary_key && !composite)) {
            column = quote! { #column.not_null() };
        }
        if attrs.unique {
            column = quote! { #column.unique() };
        }
        if let Some(default) = &attrs.default {
            column = quote! { #column.default_value(#default) };
        }
        columns.push(column);
        if attrs.index {
            let index = format!("by_{name}");
            indexes.push(quote! { .index(#index, #name) });
        }
    }
    let (key, key_type, key_parts) = match keys.as_slice() {
        [] => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "#[derive(Record)] needs a field marked #[tabula(primary_key)] (or several, for \
                 a key of several fields)",
            ));
        }
        [(name, ty)] => {
            if let Some(lit) = &key_column {
                return Err(syn::Error::new_spanned(
                    lit,
                    "key = \"..\" names the column of a key of several fields; this key is the \
                     one field marked primary_key",
                ));
            }
            (name.clone(), quote! { #ty }, None)
        }
        several => {
            if let Some(span) = serde.deny_unknown_fields {
                return Err(syn::Error::new(
                    span,
                    "a key of several fields is kept in a column of its own, which \
                     #[serde(deny_unknown_fields)] would refuse to read back",
                ));
            }
            let column = key_column
                .as_ref()
                .map_or_else(|| "key".to_owned(), LitStr::value);
            if let Some((taken, _, _, _)) =
                typed_fields.iter().find(|(_, name, _, _)| *name == column)
            {
                return Err(syn::Error::new_spanned(
                    taken,
                    format!(
                        "field `{taken}` is named like the column `{column}` that holds the key \
                         of several fields: name that column with #[tabula(key = \"..\")]"
                    ),
                ));
            }
            let names = several.iter().map(|(name, _)| name);
            let types = several.iter().map(|(_, ty)| ty);
            columns.insert(
                0,
                quote! { ::tabula::Column::new(#column, ::tabula::ColumnType::List) },
            );
            (
                column,
                quote! { (#(#types,)*) },
                Some(quote! { .key_parts([#(#names),*]) }),
            )
        }
    };
    let auto = auto_increment.then(|| quote! { .auto_increment() });
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // Typed field handles, for structs without generics (a generic struct's fields may name
    // its parameters, which a separate struct would not have).
    let fields = input.generics.params.is_empty().then(|| {
        let vis = &input.vis;
        let fields_ident = syn::Ident::new(&format!("{ident}Fields"), ident.span());
        let doc = format!("The fields of [`{ident}`], for typed filters: `{ident}::FIELDS`.");
        let decls = typed_fields.iter().map(|(field, _, ty, _)| {
            let doc = format!("The `{field}` column.");
            quote! { #[doc = #doc] pub #field: ::tabula::Field<#ty> }
        });
        let inits = typed_fields.iter().map(|(field, name, _, column)| {
            quote! { #field: ::tabula::Field::with_type(#name, ::tabula::ColumnType::#column) }
        });
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, Copy)]
            #vis struct #fields_ident { #(#decls,)* }
            impl #ident {
                /// The fields, for typed filters (`Self::FIELDS.name.eq(..)`).
                #vis const FIELDS: #fields_ident = #fields_ident { #(#inits,)* };
            }
        }
    });
    Ok(quote! {
        #fields
        impl #impl_generics ::tabula::Record for #ident #ty_generics #where_clause {
            type Key = #key_type;
            const TABLE: &'static str = #table;
            fn definition() -> ::tabula::TableDef {
                ::tabula::TableDef::new(#table, #key)
                    #auto
                    #(.column(#columns))*
                    #key_parts
                    #(#indexes)*
            }
        }
    })
}
