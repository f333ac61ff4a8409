package cloudfront

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// MaxCallerReferenceLen bounds every CallerReference. CloudFront documents
// no limit; stagefront keys records by the reference, so it needs one far
// below what a store accepts in a key, and far above what tools send
// (Terraform and CloudFormation send a few dozen characters).
const MaxCallerReferenceLen = 1024

// CheckShape walks any generated shape and enforces the rules that hold for
// every CloudFront document: Quantity matches the number of Items
// (InconsistentQuantities), required members are present and enum members
// hold an allowed value (InvalidArgument). name is the root element's name,
// used in messages.
func CheckShape(name string, v any) error {
	return checkValue(name, reflect.ValueOf(v))
}

func checkValue(path string, v reflect.Value) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		return checkStruct(path, v)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), v.Index(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkStruct(path string, v reflect.Value) error {
	t := v.Type()
	if t == reflect.TypeFor[Time]() || t == reflect.TypeFor[RawXML]() {
		return nil
	}
	if q, items := v.FieldByName("Quantity"), v.FieldByName("Items"); q.IsValid() && items.IsValid() &&
		q.Kind() == reflect.Pointer && items.Kind() == reflect.Slice && !q.IsNil() {
		want := q.Elem().Int()
		if int(want) != items.Len() {
			return ErrInconsistentQuantities.WithMessage(
				"The specified quantity of %s (%d) does not match the actual quantity supplied (%d).",
				lastName(path), want, items.Len())
		}
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "Unknown" {
			continue
		}
		fv := v.Field(i)
		fieldPath := path + "." + f.Name
		if f.Name == "CallerReference" && fv.Kind() == reflect.Pointer && !fv.IsNil() && len(fv.Elem().String()) > MaxCallerReferenceLen {
			return ErrInvalidArgument.WithMessage("The parameter CallerReference is too long (maximum %d characters).", MaxCallerReferenceLen)
		}
		if f.Tag.Get("required") == "true" && isAbsent(fv) {
			return ErrInvalidArgument.WithMessage("%s is required.", fieldPath)
		}
		if enum := f.Tag.Get("enum"); enum != "" {
			if err := checkEnum(fieldPath, enum, fv); err != nil {
				return err
			}
		}
		if err := checkValue(fieldPath, fv); err != nil {
			return err
		}
	}
	return nil
}

func isAbsent(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice:
		return v.IsNil()
	}
	return false
}

func checkEnum(path, enum string, v reflect.Value) error {
	allowed := Enums[enum]
	check := func(s string) error {
		if !slices.Contains(allowed, s) {
			return ErrInvalidArgument.WithMessage("%s: %q is not a valid value; valid values are %s.",
				path, s, strings.Join(allowed, ", "))
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() && v.Elem().Kind() == reflect.String {
			return check(v.Elem().String())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if v.Index(i).Kind() == reflect.String {
				if err := check(v.Index(i).String()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func lastName(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}
